"""Differentiable primitive ops. Each is one function with its backward written under it."""

from .activations import relu, sigmoid, tanh
from .bce import bce_with_logits, bce_with_logits_mean, binary_cross_entropy
from .compare import eq, ge, gt, le, lt, ne
from .conv import conv1d, conv2d
from .elementwise import (
    abs,
    add,
    clip,
    div,
    erf,
    exp,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from .linalg import linear, matmul
from .nn import (
    batch_norm,
    dropout,
    dropout2d,
    log_softmax,
    softmax,
    softmax_cross_entropy,
)
from .pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .reduce import argmax, argmin, logsumexp, max, mean, min, sum, var
from .shape import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    gather,
    getitem,
    pad,
    reshape,
    squeeze,
    stack,
    transpose,
)

__all__ = [
    "abs", "add", "astype", "batch_norm", "bce_with_logits", "bce_with_logits_mean",
    "binary_cross_entropy",
    "broadcast_to", "clip", "concatenate", "div", "dropout", "erf", "exp", "expand_dims",
    "flatten", "gather", "getitem", "linear", "log", "log1p", "log_softmax", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pow", "relu", "reshape",
    "sigmoid", "softmax", "softmax_cross_entropy", "sqrt", "squeeze", "stack", "sub", "sum",
    "tanh", "transpose", "var", "where",
    "argmax", "argmin", "gt", "ge", "lt", "le", "eq", "ne",
    "conv1d", "conv2d", "pad", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "dropout2d",
]  # fmt: skip
