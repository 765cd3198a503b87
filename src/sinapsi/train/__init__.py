"""Training: the fit loop, evaluation and inference, callbacks, metrics."""

from .callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    GradientMonitor,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
)
from .metrics import accuracy, mae, r2, rmse, top_k_accuracy
from .tensorboard import TensorBoard
from .trainer import (
    DivergenceWarning,
    History,
    Trainer,
    evaluate,
    fit,
    predict,
    predict_classes,
    predict_proba,
)

__all__ = [
    "fit", "evaluate", "predict", "predict_proba", "predict_classes", "History", "Trainer",
    "DivergenceWarning",
    "Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
    "GradientMonitor", "ProgressBar", "TensorBoard",
    "accuracy", "top_k_accuracy", "mae", "rmse", "r2",
]  # fmt: skip
