"""sinapsi: a NumPy deep-learning library you can read from end to end.

The core is a tensor with reverse-mode automatic differentiation (:class:`Tensor`), a small set
of differentiable ops (:mod:`sinapsi.ops`), activations composed from them
(:mod:`sinapsi.functional`) and a gradient checker (:func:`gradcheck`). On top of it:
layers, activations, normalization and losses (:mod:`sinapsi.nn`) and initializers
(:mod:`sinapsi.init`).

>>> import sinapsi as sn
>>> x = sn.tensor([[1.0, 2.0]], requires_grad=True)
>>> w = sn.tensor([[0.5], [-1.0]], requires_grad=True)
>>> loss = sn.relu(x @ w + 2.0).sum()
>>> loss.backward()
>>> x.grad
array([[ 0.5, -1. ]], dtype=float32)
"""

from . import (
    backend,
    data,
    distributed,
    embeddings,
    functional,
    init,
    interop,
    io,
    nn,
    ops,
    optim,
    train,
)
from .autograd import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .backend import default_dtype, get_default_dtype, new_rng, set_default_dtype
from .capture import CapturedStep, CaptureNotice, capture
from .functional import elu, gelu, leaky_relu, relu6, silu, softplus
from .interop import export_onnx, from_torch, to_torch
from .io import ModelFileError, load, load_state_dict, save, save_state_dict
from .ops import (
    abs,
    add,
    argmax,
    argmin,
    astype,
    broadcast_to,
    clip,
    concatenate,
    div,
    erf,
    exp,
    expand_dims,
    flatten,
    gather,
    linear,
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    sub,
    sum,
    tanh,
    transpose,
    var,
    where,
)
from .tensor import Tensor, as_tensor, full, ones, ones_like, tensor, zeros, zeros_like
from .testing import GradcheckError, gradcheck
from .train import DivergenceWarning, evaluate, fit, predict, predict_classes, predict_proba

__version__ = "0.1.0"

_LAZY_SUBMODULES = ("viz", "sklearn")  # heavy imports (matplotlib, scikit-learn) on first use


def __getattr__(name: str) -> object:
    """``sn.viz`` and ``sn.sklearn`` without importing them at start-up."""
    if name in _LAZY_SUBMODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'sinapsi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


__all__ = [
    # core
    "Tensor", "tensor", "as_tensor", "zeros", "ones", "full", "zeros_like", "ones_like",
    "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
    "get_default_dtype", "set_default_dtype", "default_dtype", "new_rng",
    "gradcheck", "GradcheckError",
    # modules
    "backend", "data", "distributed", "embeddings", "ops", "functional", "init", "io", "nn",
    "optim", "train",
    # training and inference
    "fit", "evaluate", "predict", "predict_proba", "predict_classes", "save", "load",
    "capture", "CapturedStep", "CaptureNotice",
    "save_state_dict", "load_state_dict", "ModelFileError", "DivergenceWarning",
    "export_onnx", "to_torch", "from_torch", "interop",
    # ops
    "abs", "add", "astype", "broadcast_to", "clip", "concatenate", "div", "erf", "exp",
    "expand_dims", "flatten", "gather", "linear", "log", "log1p", "log_softmax", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pow", "relu",
    "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sub", "sum", "tanh",
    "transpose", "var", "where",
    "argmax", "argmin",
    # composite activations
    "elu", "gelu", "leaky_relu", "relu6", "silu", "softplus",
]  # fmt: skip
