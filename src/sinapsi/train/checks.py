"""What fit, evaluate and predict check before they run, and the helpers they share: data
and labels, batch settings, the model's dtype, metrics on the outputs, errors located at a step.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..data.dataset import ArrayDataset, _check_arrays
from ..data.loader import DataLoader
from ..nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    check_label_range,
)
from ..nn.module import Module, module_dtype, training_mode
from ..nn.normalization import BatchNorm1d, BatchNorm2d
from ..nn.probability_losses import SoftmaxMSELoss
from ..tensor import Tensor
from .metrics import get_metric


# ---------------------------------------------------------------------------- data checks
def _as_array(name: str, value: Any, where: str = "fit", numbers: bool = True) -> np.ndarray:
    """``value`` as a NumPy array; with ``numbers``, refuse text, complex and objects."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (DataLoader, ArrayDataset)):
        raise TypeError(
            f"{where}: {name} is a {type(value).__name__}; {where} takes the arrays x and y and "
            "batches them itself (batch_size=, shuffle=, seed=). Pass the arrays (an "
            "ArrayDataset's are in .arrays, a DataLoader's in .dataset.arrays), or loop over "
            "the loader by hand."
        )
    try:
        arr = backend.to_numpy(value)
    except ValueError as e:  # ragged nested lists
        raise ValueError(
            f"{where}: {name} must be a rectangular array (every sample of the same shape); "
            f"NumPy could not make one: {e}"
        ) from None
    if arr.dtype == object:
        raise TypeError(f"{where}: {name} must hold numbers; got an array of Python objects.")
    if numbers and arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: {name} must hold real numbers; got dtype {arr.dtype} with shape "
            f"{arr.shape}. Convert or encode it first (e.g. {name}.astype('float32') for numbers "
            "read as text, one-hot or ordinal codes for categories)."
        )
    return arr


def _count(where: str, name: str, value: Any) -> int:
    """A positive integer argument (NumPy integers too, not bools) as an int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{where}: {name} must be an integer >= 1. Received: {name}={value!r}")
    if value < 1:
        raise ValueError(f"{where}: {name} must be an integer >= 1. Received: {name}={value!r}")
    return int(value)


def _check_xy(where: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    # lengths and emptiness as every data entry point checks them; NaN with fit's own message
    x, y = _as_array("x", x, where), _as_array("y", y, where, numbers=False)  # y: see _targets
    x, y = _check_arrays((x, y), ("x", "y"), where, finite=False)
    for name, a in (("x", x), ("y", y)):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(
                f"{where}: {name} holds {int((~np.isfinite(a)).sum())} NaN/Inf values (first at "
                f"index {tuple(int(i) for i in bad)}). Impute or drop those samples first."
            )
    return x, y


def _input(x: Any, dtype: Any) -> Tensor:
    """Floating inputs in the model's dtype; integer inputs (e.g. Embedding ids) as they are."""
    return Tensor(x, dtype=dtype) if x.dtype.kind == "f" else Tensor(x)


def _forward(where: str, model: Module, x: np.ndarray, rows: slice, dtype: Any) -> Tensor:
    """``model(x[rows])``; a ValueError from the model (a shape it refuses) names the shape of
    the whole ``x`` the user passed, not only of the rows tried."""
    try:
        return model(_input(x[rows], dtype))
    except ValueError as e:
        tried = x[rows].shape
        hint = (
            " x is 1-D: give it one row per sample, e.g. x.reshape(-1, 1) for a single feature."
            if x.ndim == 1
            else ""
        )
        raise ValueError(
            f"{where}: the model cannot take x of shape {x.shape} (tried on rows of shape "
            f"{tried}): {e}{hint}"
        ) from e


def _layer_names(model: Module) -> list[tuple[str, list[Any]]]:
    """(name, parameters) of every module that owns parameters directly, e.g. '0 Linear'."""
    layers = []
    for name, module in model.named_modules():
        params = [p for p in module._parameters.values() if p is not None]
        if params:
            layers.append((f"{name or 'model'} {type(module).__name__}", params))
    return layers


def _class_outputs(loss_fn: Any, outputs: np.ndarray) -> np.ndarray:
    """Predicted class labels from raw outputs, knowing the loss that trained them.

    Binary cross-entropy: every output is its own yes/no (multi-label), thresholded at 0.5
    for probabilities or 0 for logits. Otherwise: the argmax over classes (C > 1 outputs),
    or a single logit thresholded at 0.
    """
    if isinstance(loss_fn, (BCELoss, BCEWithLogitsLoss)):
        threshold = 0.5 if isinstance(loss_fn, BCELoss) else 0.0  # probabilities vs logits
        return (outputs > threshold).astype(np.int64)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs.reshape(len(outputs), -1)[:, 0] > 0.0).astype(np.int64)


def _compute_metrics(
    names: Sequence[str], loss_fn: Any, outputs: np.ndarray, y: np.ndarray
) -> dict[str, float]:
    out = {}
    for name in names:
        kind, fn = get_metric(name)
        if kind == "classes":
            out[name] = fn(y, _class_outputs(loss_fn, outputs))
        elif kind == "scores":
            out[name] = fn(y, outputs)
        else:
            out[name] = fn(y, outputs.reshape(y.shape) if outputs.size == y.size else outputs)
    return out


_CLASS_INDEX_LOSSES = {
    CrossEntropyLoss: "cross_entropy", NLLLoss: "nll", SoftmaxMSELoss: "softmax_mse",
}  # fmt: skip
_ELEMENTWISE_LOSSES = {
    MSELoss: "mse", L1Loss: "l1", HuberLoss: "huber", BCELoss: "bce",
    BCEWithLogitsLoss: "bce_with_logits",
}  # fmt: skip


def _targets(where: str, loss_fn: Any, y: np.ndarray, out_shape: tuple[int, ...]) -> Any:
    """``y`` checked on the whole array the user passed, against the outputs' shape.

    Class-index losses: see :func:`_class_labels`. Element-wise losses: ``y`` must have the
    outputs' shape per sample; a vector for a single-output model is taken as its column (as
    Keras does: one target per sample is unambiguous). Custom losses: unchanged.
    """
    if type(loss_fn) in _CLASS_INDEX_LOSSES:
        return _class_labels(where, loss_fn, y, out_shape)
    name = _ELEMENTWISE_LOSSES.get(type(loss_fn))
    if name is None:
        return y
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: the loss {name} needs numbers as targets; y is {y.dtype} with shape "
            f"{y.shape}. Convert it first (e.g. y.astype('float32') for numbers read as text)."
        )
    per_sample = tuple(out_shape[1:])
    if y.shape[1:] == per_sample:
        return y
    if y.ndim == 1 and per_sample == (1,):
        return y.reshape(-1, 1)
    outputs = "(N" + "".join(f", {d}" for d in per_sample) + ")"
    raise ValueError(
        f"{where}: the model outputs shape {outputs} but y has shape {y.shape}; the loss {name} "
        f"compares them element by element. Give y the shape {(len(y), *per_sample)}, or "
        "change the number of outputs of the last layer."
    )


def _class_labels(where: str, loss_fn: Any, y: np.ndarray, out_shape: tuple[int, ...]) -> Any:
    """Labels for a class-index loss, checked on the whole array the user passed.

    A model with one output is refused (a softmax over one value gives a loss of 0: it is a
    regression model, or a binary one for ``bce_with_logits``). Floats that hold whole numbers
    (labels read from a CSV, say) become int64, as Keras and
    scikit-learn accept them (PyTorch refuses float class indices); other floats, strings and
    labels outside 0..C-1 are refused naming what was given. A column of labels (N, 1) for
    (N, C) outputs is taken as a vector. Targets with the outputs' shape (class probabilities)
    pass unchanged.
    """
    name = _CLASS_INDEX_LOSSES[type(loss_fn)]
    if len(out_shape) < 2 or out_shape[1] == 1:
        # torch computes it, but a softmax over one value is 1: the loss is 0, nothing trains
        raise ValueError(
            f"{where}: the loss {name} needs one output per class, but the model has one output "
            "per sample, so the loss is always 0. For regression "
            "pass loss='mse' (fit and evaluate default to loss='cross_entropy'); for two "
            "classes pass loss='bce_with_logits' with labels 0/1, or give the last layer 2 outputs."
        )
    if y.ndim == 2 and y.shape[1] == 1 and len(out_shape) == 2 and out_shape[1] > 1:
        y = y[:, 0]
    if y.ndim >= len(out_shape):
        return y
    given = f"{where}: the loss {name} needs class labels 0..C-1, but y is {y.dtype} with shape "
    encode = (
        "Encode the classes as 0..C-1, e.g. classes, y = np.unique(y, return_inverse=True), or "
        "use a regression loss (loss='mse')."
    )
    if y.dtype.kind == "f":
        fraction = np.mod(y, 1) != 0
        if fraction.any():
            first = tuple(int(i) for i in np.argwhere(fraction)[0])
            raise TypeError(
                f"{given}{y.shape} and holds non-integer values (first: {y[first]} at index "
                f"{first[0] if len(first) == 1 else first}). {encode}"
            )
        y = y.astype(np.int64)
    elif y.dtype.kind == "b":
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"{given}{y.shape}. {encode}")
    ignore_index = getattr(loss_fn, "ignore_index", None)
    extra = () if ignore_index is None else (ignore_index,)
    check_label_range(where, y, out_shape[1] if len(out_shape) > 1 else 1, *extra)
    return y


def _check_first_samples(
    loss_fn: Any, model: Module, x: np.ndarray, y: np.ndarray, metrics: Sequence[str]
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Run two samples without a graph so bad targets, shapes or metrics fail before
    training; return the targets (see :func:`_targets`) and the outputs' shape."""
    with training_mode(False), no_grad():
        head = x[: min(len(x), 2)]
        out = _forward("fit", model, x, slice(0, len(head)), module_dtype(model))
        y = _targets("fit", loss_fn, y, out.shape)
        loss_fn(out, y[: len(head)])
    for name in metrics:
        try:
            _compute_metrics([name], loss_fn, backend.to_numpy(out.data), y[: len(head)])
        except (ValueError, IndexError) as e:
            raise ValueError(
                f"fit: the metric '{name}' cannot be computed on these outputs and targets "
                f"(checked on the first samples): {e} Choose metrics for this task (accuracy, "
                "top5 for classes; mae, rmse, r2 for values)."
            ) from None
    return y, out.shape


def _batch_norm_layer(model: Module) -> str | None:
    """The first BatchNorm1d (training needs 2+ samples per batch), e.g. "BatchNorm1d layer
    '1'"; None if there is none. BatchNorm2d is not counted: as in PyTorch, one image gives it
    H x W values per channel (a 1 x 1 map fails at its step, naming the shape)."""
    for name, module in model.named_modules():
        if isinstance(module, BatchNorm1d) and not isinstance(module, BatchNorm2d):
            return f"{type(module).__name__} layer '{name or 'model'}'"
    return None


def _check_batches(model: Module, n: int, batch_size: int, drop_last: bool) -> bool:
    """Refuse batch settings that cannot train before training; return whether a last batch
    of one sample must join the previous batch (a BatchNorm model)."""
    if drop_last and n < batch_size:
        raise ValueError(
            f"fit: drop_last=True with batch_size={batch_size} leaves no batch: the training set "
            f"has {n} samples. Lower batch_size or pass drop_last=False."
        )
    layer = _batch_norm_layer(model)
    if layer is None:
        return False
    needs = (
        f"fit: the model's {layer} needs at least 2 samples per training "
        "batch (batch statistics); got"
    )
    if batch_size == 1:
        raise ValueError(f"{needs} batch_size=1. Pass batch_size >= 2 (or remove the layer).")
    if n == 1:
        raise ValueError(
            f"{needs} 1 training sample. Train on more samples (validation_split takes some "
            "away), or remove the layer."
        )
    return True


def _at_step(error: Exception, epoch: int, batch: int) -> Exception:
    """``error`` with the epoch and batch where fit met it: in the message for the built-in
    types users match on, as a note (shown in the traceback) for the others."""
    where = f"at epoch {epoch + 1}, batch {batch + 1}"
    message = str(error)
    if message.startswith("fit:"):  # fit's own errors already say where
        return error
    if type(error) in (ValueError, TypeError, IndexError, FloatingPointError) and error.args:
        return type(error)(f"fit: {where}: {message}").with_traceback(error.__traceback__)
    error.add_note(f"(fit {where})")
    return error
