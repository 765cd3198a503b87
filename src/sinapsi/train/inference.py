"""Inference (*inferenza*): predictions and evaluation in eval mode, with no graph.

Eval mode holds for the calling thread only (``nn.module.training_mode(False)``): the model's
own flag is untouched, so a ``fit`` running in another thread keeps training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend, ops
from ..autograd import no_grad
from ..nn.losses import get_loss
from ..nn.module import Module, module_dtype, training_mode
from ..tensor import Tensor
from .checks import (
    _as_array,
    _check_xy,
    _compute_metrics,
    _count,
    _forward,
    _targets,
)

__all__ = ["predict", "predict_proba", "predict_classes", "evaluate"]


def _predict_raw(model: Module, x: Any, batch_size: int, where: str = "predict") -> np.ndarray:
    x = _as_array("x", x, where)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{where}: no samples to predict (x has shape {x.shape}).")
    batch_size = _count(where, "batch_size", batch_size)
    dtype = module_dtype(model)
    with training_mode(False), no_grad():  # per thread: a concurrent fit keeps training
        parts = [
            backend.to_numpy(_forward(where, model, x, slice(i, i + batch_size), dtype).data)
            for i in range(0, len(x), batch_size)
        ]
    return np.concatenate(parts)


def predict(model: Module, x: Any, batch_size: int = 256) -> np.ndarray:
    """The model's raw outputs for ``x``, in eval mode, with no graph built (inference).

    Eval mode holds for this call's thread only (``nn.module.training_mode(False)``): the
    model's own flag is untouched, so a ``fit`` running in another thread keeps training."""
    return _predict_raw(model, x, batch_size)


def predict_proba(model: Module, x: Any, batch_size: int = 256) -> np.ndarray:
    """Class probabilities of a classifier that outputs logits: softmax over C > 1 outputs,
    sigmoid for a single output (returned as two columns, P(0) and P(1))."""
    out = _predict_raw(model, x, batch_size)
    if out.ndim == 2 and out.shape[1] > 1:
        return ops.softmax(Tensor(out, dtype=out.dtype), axis=1).data
    p = ops.sigmoid(Tensor(out.reshape(len(out)), dtype=out.dtype)).data
    return np.stack([1.0 - p, p], axis=1)


def predict_classes(model: Module, x: Any, batch_size: int = 256) -> np.ndarray:
    """Predicted class labels of a classifier that outputs logits."""
    return predict_proba(model, x, batch_size).argmax(axis=1)


def evaluate(
    model: Module,
    x: Any,
    y: Any,
    loss: Any = "cross_entropy",
    metrics: Sequence[str] = (),
    batch_size: int = 256,
) -> dict[str, float]:
    """Loss (sample-weighted over batches) and metrics on ``(x, y)``, in eval mode (for this
    thread only, as :func:`predict`), with no graph."""
    x, y = _check_xy("evaluate", x, y)
    loss_fn = get_loss(loss)
    outputs = _predict_raw(model, x, batch_size, "evaluate")
    y = _targets("evaluate", loss_fn, y, outputs.shape)
    total = 0.0
    with no_grad():
        for i in range(0, len(x), batch_size):
            out = Tensor(outputs[i : i + batch_size], dtype=outputs.dtype)
            total += float(loss_fn(out, y[i : i + batch_size]).item()) * len(out)
    result = {"loss": total / len(x)}
    result.update(_compute_metrics(metrics, loss_fn, outputs, y))
    return result
