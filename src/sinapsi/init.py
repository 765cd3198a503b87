"""Weight initializers: how the first weights and biases are drawn.

Every function takes a shape and a seed or ``numpy.random.Generator`` (``rng=``) and returns a new
array in the default dtype. The formulas are PyTorch's (``torch.nn.init``), so a model built with
the same scheme has weights from the same distribution. Why they matter: with the wrong scale the
signal shrinks or grows layer after layer, and so do the gradients (vanishing / exploding).

- Xavier/Glorot keeps the variance of activations and gradients equal across layers for
  tanh/sigmoid-like units: ``Var(w) = 2 / (fan_in + fan_out)``.
- He/Kaiming does the same for ReLU, which zeroes half its inputs: ``Var(w) = 2 / fan_in``.
- LeCun, for SELU-like units: ``Var(w) = 1 / fan_in``.

>>> from sinapsi import init
>>> w = init.kaiming_normal((256, 784), rng=0)  # (out_features, in_features), like nn.Linear
>>> round(float(w.std()), 3), round((2 / 784) ** 0.5, 3)
(0.051, 0.051)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import backend
from ._errors import unknown_choice

__all__ = [
    "calculate_gain", "compute_fans", "zeros", "ones", "constant", "normal", "uniform",
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform",
    "lecun_normal", "torch_default", "get",
]  # fmt: skip

Shape = tuple[int, ...]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for an activation (``torch.nn.init.calculate_gain``).

    linear/identity/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2))
    (slope 0.01 by default); selu: 3/4.
    """
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise unknown_choice(
        "nonlinearity",
        "calculate_gain",
        ["linear", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "selu"],
        nonlinearity,
    )


def compute_fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)``, counted as PyTorch does."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(
            f"Fan in and fan out need a weight with at least 2 dimensions; got shape {shape}. "
            "Biases are initialized with zeros, constant, normal or uniform."
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _draw(shape: Shape, rng: Any, dtype: Any, how: Callable[[Any], Any]) -> Any:
    generator = backend.new_rng(rng)
    data = how(generator)
    xp = backend.array_module()
    return xp.asarray(data, dtype=backend.resolve_dtype(dtype)).reshape(shape)


def zeros(shape: Shape, rng: Any = None, dtype: Any = None) -> Any:
    """All zeros (the usual bias initializer)."""
    return backend.array_module().zeros(shape, backend.resolve_dtype(dtype))


def ones(shape: Shape, rng: Any = None, dtype: Any = None) -> Any:
    """All ones (BatchNorm's scale)."""
    return backend.array_module().ones(shape, backend.resolve_dtype(dtype))


def constant(shape: Shape, value: float, rng: Any = None, dtype: Any = None) -> Any:
    """Every element equal to ``value``."""
    return backend.array_module().full(shape, value, backend.resolve_dtype(dtype))


def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, rng: Any = None, dtype: Any = None):
    """Draws from N(mean, std^2)."""
    return _draw(shape, rng, dtype, lambda g: g.normal(mean, std, shape))


def uniform(shape: Shape, low: float = 0.0, high: float = 1.0, rng: Any = None, dtype: Any = None):
    """Draws from U(low, high)."""
    return _draw(shape, rng, dtype, lambda g: g.uniform(low, high, shape))


def xavier_uniform(shape: Shape, gain: float = 1.0, rng: Any = None, dtype: Any = None):
    """Glorot & Bengio (2010): U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = compute_fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, rng, dtype)


def xavier_normal(shape: Shape, gain: float = 1.0, rng: Any = None, dtype: Any = None):
    """Glorot & Bengio (2010): N(0, std^2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = compute_fans(shape)
    return normal(shape, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def _kaiming_std(shape: Shape, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise unknown_choice("mode", "kaiming initialization", ["fan_in", "fan_out"], mode)
    fan_in, fan_out = compute_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(
    shape: Shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    rng: Any = None,
    dtype: Any = None,
):
    """He et al. (2015): U(-b, b), ``b = gain * sqrt(3 / fan)``; ``a`` is leaky_relu's slope."""
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)
    return uniform(shape, -bound, bound, rng, dtype)


def kaiming_normal(
    shape: Shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    rng: Any = None,
    dtype: Any = None,
):
    """He et al. (2015): N(0, std^2), ``std = gain / sqrt(fan)`` (sqrt(2 / fan_in) for ReLU)."""
    return normal(shape, 0.0, _kaiming_std(shape, a, mode, nonlinearity), rng, dtype)


def lecun_uniform(shape: Shape, rng: Any = None, dtype: Any = None):
    """LeCun: U(-b, b), ``b = sqrt(3 / fan_in)`` (variance 1 / fan_in)."""
    bound = math.sqrt(3.0 / compute_fans(shape)[0])
    return uniform(shape, -bound, bound, rng, dtype)


def lecun_normal(shape: Shape, rng: Any = None, dtype: Any = None):
    """LeCun: N(0, 1 / fan_in) (not truncated, unlike Keras' lecun_normal)."""
    return normal(shape, 0.0, math.sqrt(1.0 / compute_fans(shape)[0]), rng, dtype)


def torch_default(shape: Shape, rng: Any = None, dtype: Any = None):
    """``torch.nn.Linear``'s default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    (PyTorch writes it as kaiming_uniform with a = sqrt(5).)
    """
    return kaiming_uniform(shape, a=math.sqrt(5.0), nonlinearity="leaky_relu", rng=rng, dtype=dtype)


_SCHEMES: dict[str, Callable[..., Any]] = {
    "default": torch_default,
    "torch": torch_default,
    "zeros": zeros,
    "ones": ones,
    "normal": normal,
    "uniform": uniform,
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot": xavier_uniform,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he": kaiming_normal,
    "he_normal": kaiming_normal,
    "he_uniform": kaiming_uniform,
    "kaiming": kaiming_normal,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "lecun": lecun_normal,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
}


def get(identifier: str | Callable[..., Any]) -> Callable[..., Any]:
    """An initializer by name (``"he"``, ``"xavier"``, ...) or a callable
    ``f(shape, rng=, dtype=)``."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _SCHEMES:
        return _SCHEMES[identifier]
    raise unknown_choice("init", "an initializer (or a callable)", _SCHEMES, identifier)
