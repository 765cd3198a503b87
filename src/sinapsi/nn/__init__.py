"""Neural-network building blocks: Module, layers, activations, normalization, losses."""

from .activations import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
    get_activation,
)
from .conv import Conv1d, Conv2d
from .features import POINT_FEATURES, PointFeatures
from .layers import Dropout, Dropout2d, Embedding, Flatten, Identity, Linear, Unflatten
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    get_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .module import (
    Module,
    ModuleList,
    Parameter,
    Sequential,
    StateDictError,
    module_dtype,
    training_mode,
)
from .normalization import BatchNorm1d, BatchNorm2d, Normalization
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .probability_losses import SoftmaxMSELoss, softmax_mse_loss
from .registry import build_module, module_spec, register_module, registered_modules
from .summary import summary

for _cls in (
    Linear, Dropout, Embedding, Flatten, Identity, BatchNorm1d, Normalization, Sigmoid, Tanh, ReLU,
    LeakyReLU, ELU, GELU, Softplus, Softmax, LogSoftmax, PointFeatures,
    Conv2d, Conv1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d, Dropout2d, Unflatten,
):  # fmt: skip
    register_module()(_cls)

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "StateDictError", "summary",
    "training_mode", "module_dtype",
    "register_module", "module_spec", "build_module", "registered_modules",
    "Linear", "Dropout", "Embedding", "Flatten", "Identity", "BatchNorm1d", "Normalization",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "Softmax", "LogSoftmax",
    "get_activation", "PointFeatures", "POINT_FEATURES",
    "Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d",
    "Unflatten",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "NLLLoss", "SoftmaxMSELoss", "get_loss",
    "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "softmax_mse_loss",
]  # fmt: skip
