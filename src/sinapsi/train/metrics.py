"""Metrics on plain arrays (no autograd): what the training loop reports besides the loss.

Classification metrics take true labels and predicted labels or scores; regression metrics
take true and predicted values. All return a Python float.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._errors import unknown_choice

__all__ = [
    "accuracy", "top_k_accuracy", "mae", "rmse", "r2", "get_metric", "METRICS", "LOWER_IS_BETTER",
]  # fmt: skip

# The numbers that are better lower (a loss, an error); the other metrics are scores.
LOWER_IS_BETTER = ("loss", "mae", "rmse", "mse")


def _flat(a: Any) -> np.ndarray:
    return np.asarray(a).reshape(len(a), -1) if np.ndim(a) > 1 else np.asarray(a)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of predicted class labels equal to the true ones (for multi-label targets of
    shape (n, k), the fraction of the n * k yes/no answers that are right)."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"accuracy: {y_true.size} true labels but {y_pred.size} predictions.")
    return float((y_true == y_pred).mean()) if y_true.size else 0.0


def top_k_accuracy(y_true: Any, scores: Any, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores (N, C)."""
    scores = np.asarray(scores)
    y_true = np.asarray(y_true).reshape(-1)
    if scores.ndim != 2 or scores.shape[0] != y_true.size:
        raise ValueError(
            f"top_k_accuracy: scores must have shape (n_samples, n_classes) = ({y_true.size}, C);"
            f" got {scores.shape}."
        )
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float((top == y_true[:, None]).any(axis=1).mean())


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(_flat(y_true) - _flat(y_pred).reshape(_flat(y_true).shape))))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    diff = _flat(y_true) - _flat(y_pred).reshape(_flat(y_true).shape)
    return float(np.sqrt(np.mean(diff * diff)))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination: 1 - SS_res / SS_tot (1 is perfect, 0 predicts the mean)."""
    t = _flat(y_true).astype(np.float64)
    p = _flat(y_pred).reshape(t.shape).astype(np.float64)
    ss_res = float(((t - p) ** 2).sum())
    ss_tot = float(((t - t.mean(axis=0)) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


# name -> (what the metric reads from the model output, function)
#   "classes": predicted class labels; "scores": raw per-class scores; "values": raw outputs
METRICS: dict[str, tuple[str, Callable[..., float]]] = {
    "accuracy": ("classes", accuracy),
    "acc": ("classes", accuracy),
    "top_k_accuracy": ("scores", top_k_accuracy),
    "top5": ("scores", lambda t, s: top_k_accuracy(t, s, 5)),
    "mae": ("values", mae),
    "rmse": ("values", rmse),
    "r2": ("values", r2),
}


def get_metric(name: str) -> tuple[str, Callable[..., float]]:
    """``(input kind, function)`` for a metric name."""
    if name not in METRICS:
        raise unknown_choice("metrics", "fit", METRICS, name)
    return METRICS[name]
