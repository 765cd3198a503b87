"""Elementwise ops: arithmetic, exp/log family, clipping, selection and activations.

Each op computes its forward, then defines ``backward(g)`` right below it, returning one gradient
per input (``None`` for an input that needs none). Broadcast inputs get their gradient summed back
to their own shape with :func:`~sinapsi.autograd.sum_to`.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..autograd import make_result, sum_to
from ..tensor import Tensor
from ._util import broadcast_error, floating, operand, pair, wrap

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "log1p", "sqrt", "abs", "erf",
    "clip", "maximum", "minimum", "where", "sigmoid", "tanh", "relu",
]  # fmt: skip


# ------------------------------------------------------------------------------ arithmetic
def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with NumPy broadcasting."""
    a, b = pair("add", a, b)
    try:
        data = a.data + b.data
    except ValueError:
        raise broadcast_error("add", a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(g, a.data.shape) if a.requires_grad else None,
            sum_to(g, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "add", (a, b), backward)


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with NumPy broadcasting."""
    a, b = pair("sub", a, b)
    try:
        data = a.data - b.data
    except ValueError:
        raise broadcast_error("sub", a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(g, a.data.shape) if a.requires_grad else None,
            sum_to(-g, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "sub", (a, b), backward)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with NumPy broadcasting."""
    a, b = pair("mul", a, b)
    try:
        data = a.data * b.data
    except ValueError:
        raise broadcast_error("mul", a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(g * b.data, a.data.shape) if a.requires_grad else None,
            sum_to(g * a.data, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "mul", (a, b), backward)


def div(a: Any, b: Any, rounding_mode: str | None = None) -> Tensor:
    """``a / b`` with NumPy broadcasting, rounded as ``torch.div``'s ``rounding_mode``.

    ``None`` (default): true division; integers divide into the default float, and ``x / 0``
    gives inf or nan, as in NumPy. ``"trunc"`` rounds the quotient toward zero, ``"floor"``
    toward minus infinity (Python's ``//``, the ``Tensor.__floordiv__`` operator); both keep
    integer tensors integer, and their gradient is 0, as in PyTorch (a rounded quotient is a
    step function).
    """
    if rounding_mode is not None:
        return _rounded_div(a, b, rounding_mode)
    a, b = pair("div", a, b)
    if a.data.dtype.kind != "f":  # true division of integers gives the default float
        a, b = (
            wrap(a.data.astype(backend.get_default_dtype())),
            wrap(b.data.astype(backend.get_default_dtype())),
        )
    try:
        data = a.data / b.data
    except ValueError:
        raise broadcast_error("div", a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        ga = g / b.data
        return (
            sum_to(ga, a.data.shape) if a.requires_grad else None,
            sum_to(-ga * data, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "div", (a, b), backward)


def _rounded_div(a: Any, b: Any, mode: str) -> Tensor:
    if mode not in ("trunc", "floor"):
        raise ValueError(
            f"div: rounding_mode must be None, 'trunc' or 'floor' (as in torch.div). "
            f"Got {mode!r} instead."
        )
    a, b = pair("div", a, b)
    xp = backend.get_array_module(a.data)
    A, B = a.data, b.data  # noqa: N806
    integer = A.dtype.kind != "f"
    if integer and bool((B == 0).any()):
        raise ZeroDivisionError(
            f"div: integer division by zero with rounding_mode={mode!r} (divisor shape "
            f"{b.shape}); an integer quotient has no infinity. Divide floats instead, or mask "
            "the zero divisors."
        )
    try:
        if mode == "floor":
            data = xp.floor_divide(A, B)
        elif integer:  # toward zero: floor, plus 1 where the signs differ and it was inexact
            data = xp.floor_divide(A, B)
            data = data + (((A % B) != 0) & ((A < 0) != (B < 0)))
        else:
            data = xp.trunc(A / B)
    except ValueError:
        raise broadcast_error("div", a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            xp.zeros(A.shape, A.dtype) if a.requires_grad else None,
            xp.zeros(B.shape, B.dtype) if b.requires_grad else None,
        )

    return make_result(data, f"div_{mode}", (a, b), backward)


def neg(x: Any) -> Tensor:
    """``-x``."""
    x = operand(x)
    return make_result(-x.data, "neg", (x,), lambda g: (-g,))


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - the operator's name
    """``a ** b``. A Python-number exponent is the fast, common case (``x ** 2``).

    The gradient with respect to the exponent is ``a**b * log(a)``, taken as 0 where ``a == 0``
    and ``b >= 0`` (as PyTorch does); a negative base gives NaN there, as ``log`` would.
    """
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, Tensor):
        x = floating(a) if isinstance(b, float) else a  # int ** 0.5 is float32, as torch
        p = x.data.dtype.type(b) if x.data.dtype.kind == "f" else b
        data = x.data**p

        def backward_scalar(g: Any) -> tuple[Any]:
            if b == 0:
                return (g * 0,)
            if b == 2:
                return (g * (x.data + x.data),)
            return (g * (p * x.data ** (p - 1)),)

        return make_result(data, "pow", (x,), backward_scalar)

    a, b = pair("pow", a, b)
    try:
        data = a.data**b.data
    except ValueError:
        raise broadcast_error("pow", a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        xp = backend.get_array_module(g)
        ga = gb = None
        # 0 ** -1 = inf and log(-1) = NaN are the values PyTorch gives too: no warnings.
        with backend.errstate(xp, divide="ignore", invalid="ignore"):
            if a.requires_grad:  # b * a**(b - 1), and 0 where b == 0 (a**0 is flat in a)
                slope = xp.where(b.data == 0, 0, b.data * a.data ** (b.data - 1))
                ga = sum_to(g * slope, a.data.shape)
            if b.requires_grad:
                base_zero = (a.data == 0) & (b.data >= 0)
                safe = xp.where(base_zero, 1, a.data)
                gb = sum_to(g * xp.where(base_zero, 0, data * xp.log(safe)), b.data.shape)
        return ga, gb

    return make_result(data, "pow", (a, b), backward)


# ------------------------------------------------------------------------------ unary math
def exp(x: Any) -> Tensor:
    """``e ** x``."""
    x = floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.exp(x.data)
    return make_result(y, "exp", (x,), lambda g: (g * y,))


def log(x: Any) -> Tensor:
    """Natural logarithm (``log(0) = -inf``, negative input gives NaN, as in NumPy)."""
    x = floating(x)
    xp = backend.get_array_module(x.data)
    return make_result(xp.log(x.data), "log", (x,), lambda g: (g / x.data,))


def log1p(x: Any) -> Tensor:
    """``log(1 + x)``, accurate for tiny ``x`` (where ``log(1 + x)`` would round to 0)."""
    x = floating(x)
    xp = backend.get_array_module(x.data)
    return make_result(xp.log1p(x.data), "log1p", (x,), lambda g: (g / (1.0 + x.data),))


def sqrt(x: Any) -> Tensor:
    """Square root."""
    x = floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.sqrt(x.data)
    return make_result(y, "sqrt", (x,), lambda g: (g / (y + y),))


def abs(x: Any) -> Tensor:  # noqa: A001
    """``|x|``; its gradient at 0 is 0 (the sign), as in PyTorch."""
    x = operand(x)
    xp = backend.get_array_module(x.data)
    return make_result(xp.abs(x.data), "abs", (x,), lambda g: (g * xp.sign(x.data),))


def erf(x: Any) -> Tensor:
    """The error function (used by the exact GELU)."""
    x = floating(x)
    xp = backend.get_array_module(x.data)
    c = 2.0 / math.sqrt(math.pi)

    def backward(g: Any) -> tuple[Any]:
        return (g * (c * xp.exp(-(x.data * x.data))),)

    return make_result(backend.special(xp).erf(x.data), "erf", (x,), backward)


# ----------------------------------------------------------------------- clip and select
def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - numpy's names
    """Limit values to ``[min, max]`` (either may be None), as ``torch.clamp``.

    The bounds are numbers, arrays or tensors, and broadcast with ``x`` (the result takes the
    broadcast shape). Where ``min > max`` the result is ``max``. The gradient passes to ``x``
    where ``min <= x <= max``, bounds included, and to a bound tensor where it is the result.
    """
    x = operand(x)
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given; got neither.")
    if _scalar_bound(min) and _scalar_bound(max) and x.data.dtype.kind == "f":
        return _clip_scalar(x, min, max)  # the common case, x.clip(-1, 1): no broadcasting
    lo = hi = None
    if min is not None:
        x, lo = pair("clip", x, min)
    if max is not None:
        x, hi = pair("clip", x, max)
        if lo is not None:
            lo, hi = pair("clip", lo, hi)
    xp = backend.get_array_module(x.data)
    X = x.data  # noqa: N806
    try:
        above = X if lo is None else xp.maximum(X, lo.data)
        data = above if hi is None else xp.minimum(above, hi.data)
    except ValueError:
        raise broadcast_error("clip", *(t for t in (x, lo, hi) if t is not None)) from None

    def backward(g: Any) -> tuple[Any, ...]:
        inside = True
        if lo is not None:
            inside = X >= lo.data
        if hi is not None:
            inside = inside & (X <= hi.data)
        grads = [sum_to(g * inside, X.shape) if x.requires_grad else None]
        if lo is not None:
            raised = X < lo.data if hi is None else (X < lo.data) & (lo.data <= hi.data)
            grads.append(sum_to(g * raised, lo.data.shape) if lo.requires_grad else None)
        if hi is not None:
            grads.append(sum_to(g * (above > hi.data), hi.data.shape) if hi.requires_grad else None)
        return tuple(grads)

    parents = tuple(t for t in (x, lo, hi) if t is not None)
    return make_result(data, "clip", parents, backward)


def _scalar_bound(bound: Any) -> bool:
    return bound is None or (not isinstance(bound, Tensor) and backend.numpy.ndim(bound) == 0)


def _clip_scalar(x: Tensor, min: Any, max: Any) -> Tensor:  # noqa: A002
    xp = backend.get_array_module(x.data)
    dt = x.data.dtype.type
    lo = None if min is None else dt(min)
    hi = None if max is None else dt(max)
    data = xp.clip(x.data, lo, hi)

    def backward(g: Any) -> tuple[Any]:
        inside = True
        if lo is not None:
            inside = x.data >= lo
        if hi is not None:
            inside = inside & (x.data <= hi)
        return (g * inside,)

    return make_result(data, "clip", (x,), backward)


def _extremum(op: str, a: Any, b: Any, take_a: Any) -> Tensor:
    a, b = pair(op, a, b)
    xp = backend.get_array_module(a.data)
    try:
        data = xp.maximum(a.data, b.data) if op == "maximum" else xp.minimum(a.data, b.data)
    except ValueError:
        raise broadcast_error(op, a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        # Ties split the gradient in half, as in PyTorch. (Masks multiply g, never a Python
        # float: bool * 0.5 would be float64.)
        xp = backend.get_array_module(g)
        wins, tie = take_a(a.data, b.data), a.data == b.data
        half = g * 0.5
        return (
            sum_to(xp.where(tie, half, g * wins), a.data.shape) if a.requires_grad else None,
            sum_to(xp.where(tie, half, g * ~(wins | tie)), b.data.shape)
            if b.requires_grad
            else None,
        )

    return make_result(data, op, (a, b), backward)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; on ties each input gets half the gradient (as in PyTorch)."""
    return _extremum("maximum", a, b, lambda x, y: x > y)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; on ties each input gets half the gradient (as in PyTorch)."""
    return _extremum("minimum", a, b, lambda x, y: x < y)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast together)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    xp = backend.get_array_module(cond) if hasattr(cond, "dtype") else backend.array_module()
    cond = xp.asarray(cond)
    if cond.dtype.kind != "b":
        raise TypeError(
            f"where: condition must be boolean; got dtype {cond.dtype}. "
            "Build it with a comparison, e.g. x > 0."
        )
    a, b = pair("where", a, b)
    try:
        data = xp.where(cond, a.data, b.data)
    except ValueError:
        raise broadcast_error("where", wrap(cond), a, b) from None

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(xp.where(cond, g, 0.0), a.data.shape) if a.requires_grad else None,
            sum_to(xp.where(cond, 0.0, g), b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "where", (a, b), backward)


# ------------------------------------------------------------------------------ activations
def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``, computed without overflow for any x.

    A primitive rather than a composition: the composed form overflows ``exp(-x)`` for very
    negative x, and the derivative from the output, ``y * (1 - y)``, is exact and cheap.
    """
    x = floating(x)
    xp = backend.get_array_module(x.data)
    y = backend.special(xp).expit(x.data)
    return make_result(y, "sigmoid", (x,), lambda g: (g * (y * (1.0 - y)),))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent; its gradient is ``1 - tanh(x)**2``."""
    x = floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.tanh(x.data)
    return make_result(y, "tanh", (x,), lambda g: (g * (1.0 - y * y),))


def relu(x: Any) -> Tensor:
    """``max(x, 0)``; the gradient at exactly 0 is 0, as in PyTorch."""
    x = operand(x)
    xp = backend.get_array_module(x.data)
    y = xp.maximum(x.data, x.data.dtype.type(0))  # keeps the dtype: float32, or int as torch
    return make_result(y, "relu", (x,), lambda g: (g * (y > 0),))
