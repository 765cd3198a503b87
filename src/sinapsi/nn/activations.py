"""Activation layers: one-line modules over the activation ops, and a registry by name."""

from __future__ import annotations

from typing import Any

from .. import functional, ops
from .._errors import check_bool, check_real, unknown_choice
from ..ops import _util as ops_util
from ..tensor import Tensor
from .layers import Identity
from .module import Module

__all__ = [
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "Softmax", "LogSoftmax",
    "get_activation",
]  # fmt: skip


def _inplace(owner: str, inplace: Any) -> None:
    """torch's ``inplace=`` flag, taken so torch code runs: the result is the same, and sinapsi
    never overwrites the input (it saves torch memory only), so it is not kept or saved."""
    check_bool(owner, "inplace", inplace)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``: squashes to (0, 1); saturates (tiny gradient) for large ``|x|``."""

    def forward(self, x: Any) -> Tensor:
        return ops.sigmoid(x)


class Tanh(Module):
    """``tanh(x)``: squashes to (-1, 1), zero-centred; saturates for large ``|x|``."""

    def forward(self, x: Any) -> Tensor:
        return ops.tanh(x)


class ReLU(Module):
    """``max(x, 0)``: gradient 1 for positive inputs, so it does not saturate."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        _inplace("ReLU", inplace)

    def forward(self, x: Any) -> Tensor:
        return ops.relu(x)


class LeakyReLU(Module):
    """``x`` if positive, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        _inplace("LeakyReLU", inplace)
        self.negative_slope = check_real("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Any) -> Tensor:
        return functional.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class ELU(Module):
    """``x`` if positive, else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        _inplace("ELU", inplace)
        self.alpha = check_real("ELU", "alpha", alpha)

    def forward(self, x: Any) -> Tensor:
        return functional.elu(x, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class GELU(Module):
    """``x * Phi(x)``; ``approximate="tanh"`` for the tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise unknown_choice("approximate", "GELU", ["none", "tanh"], approximate)
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return functional.gelu(x, self.approximate)

    def get_config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``: a smooth ReLU."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = check_real("Softplus", "beta", beta, positive=True)
        self.threshold = check_real("Softplus", "threshold", threshold)

    def forward(self, x: Any) -> Tensor:
        return functional.softplus(x, self.beta, self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {"beta": self.beta, "threshold": self.threshold}


class Softmax(Module):
    """Probabilities along ``axis`` (default: the last); ``dim=`` is PyTorch's name for it."""

    def __init__(self, axis: int | None = None, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = ops_util.axis_or_dim(type(self).__name__, axis, dim, -1)

    def forward(self, x: Any) -> Tensor:
        return ops.softmax(x, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class LogSoftmax(Softmax):
    """Log-probabilities along ``axis`` (default: the last), computed stably."""

    def forward(self, x: Any) -> Tensor:
        return ops.log_softmax(x, self.axis)


_ACTIVATIONS: dict[str, type[Module]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "softplus": Softplus,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "linear": Identity,
    "identity": Identity,
}


def get_activation(identifier: str | Module | None) -> Module:
    """An activation layer from a name (``"relu"``), a Module (returned as is) or None
    (identity)."""
    if identifier is None:
        return Identity()
    if isinstance(identifier, Module):
        return identifier
    if isinstance(identifier, str) and identifier in _ACTIVATIONS:
        return _ACTIVATIONS[identifier]()
    raise unknown_choice("activation", "get_activation", _ACTIVATIONS, identifier)
