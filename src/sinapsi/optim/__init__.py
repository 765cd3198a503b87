"""Optimization algorithms, gradient clipping and (in lr_scheduler) learning-rate schedules."""

from typing import Any

from .._errors import unknown_choice
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LinearWarmup,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from .optimizer import NonFiniteGradientError, Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "NonFiniteGradientError", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "clip_grad_norm_", "clip_grad_value_", "get", "lr_scheduler",
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
    "LinearWarmup", "ReduceLROnPlateau", "SequentialLR", "LambdaLR", "MultiplicativeLR",
]  # fmt: skip

_OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def get(identifier: str | Optimizer, params: Any = None, **kwargs: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``, built over ``params`` with ``kwargs``) or an
    Optimizer instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _OPTIMIZERS:
        if params is None:
            raise ValueError(f"optim.get({identifier!r}) needs params= to build the optimizer.")
        return _OPTIMIZERS[identifier.lower()](params, **kwargs)
    raise unknown_choice("optimizer", "optim.get", _OPTIMIZERS, identifier)
