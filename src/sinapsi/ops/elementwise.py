"""Elementwise ops: arithmetic, exp/log family, clipping and selection (the activations:
:mod:`sinapsi.ops.activations`).

Each op computes its forward, then defines ``backward(g)`` right below it, returning one gradient
per input (``None`` for an input that needs none). Broadcast inputs get their gradient summed back
to their own shape with :func:`~sinapsi.autograd.sum_to`.

Each op also hands ``make_result`` a ``replay`` (for :func:`sinapsi.capture`): it recomputes the
result in place, into the very array the forward made (``out=``), from the parents' current
values, with the forward's ufuncs and Python scalars, so the numbers are bit for bit a fresh
call's. A 0-d result is kept as a 0-d array (NumPy returns a scalar, which cannot be written in
place). The comparisons (:func:`gt` ...) are ops with a replay too, so that a mask computed from
a tensor's values is recomputed when the step is replayed.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..autograd import make_result, sum_to
from ..tensor import Tensor
from ._util import (
    broadcast_error,
    floating,
    operand,
    pair,
    prepare,
    wrap,
)

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "log1p", "sqrt", "abs", "erf",
    "clip", "maximum", "minimum", "where",
]  # fmt: skip


# Since NumPy 2.3 `array ** p` is the power ufunc itself when p is a NumPy scalar (the fast
# paths, square, sqrt..., are for Python numbers only: numpy#27901); before, any scalar took them.
_NUMPY_VERSION = tuple(int(v) for v in backend.numpy.__version__.split(".")[:2])
_POWER_UFUNC_MODULE = backend.numpy if _NUMPY_VERSION >= (2, 3) else None


def _array(data: Any) -> Any:
    """A 0-d result as a 0-d array, which a replay can write into: NumPy gives a scalar."""
    return backend.numpy.asarray(data) if isinstance(data, backend.numpy.generic) else data


# ------------------------------------------------------------------------------ arithmetic
def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with NumPy broadcasting."""
    a0, b0 = a, b
    a, b = pair("add", a, b)
    try:
        data = a.data + b.data
    except ValueError:
        raise broadcast_error("add", a, b) from None
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, a, a0, b, b0).add(a.data, b.data, out=data)

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(g, a.data.shape) if a.requires_grad else None,
            sum_to(g, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "add", (a, b), backward, replay)


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with NumPy broadcasting."""
    a0, b0 = a, b
    a, b = pair("sub", a, b)
    try:
        data = a.data - b.data
    except ValueError:
        raise broadcast_error("sub", a, b) from None
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, a, a0, b, b0).subtract(a.data, b.data, out=data)

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(g, a.data.shape) if a.requires_grad else None,
            sum_to(-g, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "sub", (a, b), backward, replay)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with NumPy broadcasting."""
    a0, b0 = a, b
    a, b = pair("mul", a, b)
    try:
        data = a.data * b.data
    except ValueError:
        raise broadcast_error("mul", a, b) from None
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, a, a0, b, b0).multiply(a.data, b.data, out=data)

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(g * b.data, a.data.shape) if a.requires_grad else None,
            sum_to(g * a.data, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "mul", (a, b), backward, replay)


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
    a0, b0 = a, b
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
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, a, a0, b, b0).true_divide(a.data, b.data, out=data)

    def backward(g: Any) -> tuple[Any, Any]:
        ga = g / b.data
        return (
            sum_to(ga, a.data.shape) if a.requires_grad else None,
            sum_to(-ga * data, b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "div", (a, b), backward, replay)


def _rounded_div(a: Any, b: Any, mode: str) -> Tensor:
    if mode not in ("trunc", "floor"):
        raise ValueError(
            f"div: rounding_mode must be None, 'trunc' or 'floor' (as in torch.div). "
            f"Got {mode!r} instead."
        )
    a0, b0 = a, b
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
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            xp.zeros(A.shape, A.dtype) if a.requires_grad else None,
            xp.zeros(B.shape, B.dtype) if b.requires_grad else None,
        )

    def replay() -> None:  # the zero-divisor check stays eager (the engine checks values)
        prepare(state, data, a, a0, b, b0)
        if mode == "floor" or integer:
            xp.floor_divide(A, B, out=data)
            if mode == "trunc":  # the forward's mask, then an exact integer add
                xp.add(data, ((A % B) != 0) & ((A < 0) != (B < 0)), out=data)
        else:
            xp.trunc(xp.true_divide(A, B, out=data), out=data)  # exact: trunc of the quotient

    return make_result(data, f"div_{mode}", (a, b), backward, replay)


def neg(x: Any) -> Tensor:
    """``-x``."""
    x0, x = x, operand(x)
    data = -x.data
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, x, x0).negative(x.data, out=data)

    return make_result(data, "neg", (x,), lambda g: (-g,), replay)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - the operator's name
    """``a ** b``. A Python-number exponent is the fast, common case (``x ** 2``).

    The gradient with respect to the exponent is ``a**b * log(a)``, taken as 0 where ``a == 0``
    and ``b >= 0`` (as PyTorch does); a negative base gives NaN there, as ``log`` would.
    """
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, Tensor):
        x = floating(a) if isinstance(b, float) else a  # int ** 0.5 is float32, as torch
        p = x.data.dtype.type(b) if x.data.dtype.kind == "f" else b
        data = x.data**p
        data = data if data.ndim else _array(data)
        state: list[Any] = []

        def replay_scalar() -> None:
            xp = prepare(state, data, x, a)
            if xp is _POWER_UFUNC_MODULE and x.data.dtype.kind == "f":
                xp.power(x.data, p, out=data)  # what `**` runs for a NumPy-scalar exponent
            else:  # `**` itself, copied: NumPy 1 routes it to square, sqrt... by the value
                xp.copyto(data, x.data**p)

        def backward_scalar(g: Any) -> tuple[Any]:
            if b == 0:
                return (g * 0,)
            if b == 2:
                return (g * (x.data + x.data),)
            return (g * (p * x.data ** (p - 1)),)

        return make_result(data, "pow", (x,), backward_scalar, replay_scalar)

    a0, b0 = a, b
    a, b = pair("pow", a, b)
    try:
        data = a.data**b.data
    except ValueError:
        raise broadcast_error("pow", a, b) from None
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, a, a0, b, b0).copyto(data, a.data**b.data)  # `**`, as above

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

    return make_result(data, "pow", (a, b), backward, replay)


# ------------------------------------------------------------------------------ unary math
def exp(x: Any) -> Tensor:
    """``e ** x``."""
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.exp(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, y, x, x0).exp(x.data, out=y)

    return make_result(y, "exp", (x,), lambda g: (g * y,), replay)


def log(x: Any) -> Tensor:
    """Natural logarithm (``log(0) = -inf``, negative input gives NaN, as in NumPy)."""
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.log(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, y, x, x0).log(x.data, out=y)

    return make_result(y, "log", (x,), lambda g: (g / x.data,), replay)


def log1p(x: Any) -> Tensor:
    """``log(1 + x)``, accurate for tiny ``x`` (where ``log(1 + x)`` would round to 0)."""
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.log1p(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, y, x, x0).log1p(x.data, out=y)

    return make_result(y, "log1p", (x,), lambda g: (g / (1.0 + x.data),), replay)


def sqrt(x: Any) -> Tensor:
    """Square root."""
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.sqrt(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, y, x, x0).sqrt(x.data, out=y)

    return make_result(y, "sqrt", (x,), lambda g: (g / (y + y),), replay)


def abs(x: Any) -> Tensor:  # noqa: A001
    """``|x|``; its gradient at 0 is 0 (the sign), as in PyTorch."""
    x0, x = x, operand(x)
    xp = backend.get_array_module(x.data)
    y = xp.abs(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, y, x, x0).abs(x.data, out=y)

    return make_result(y, "abs", (x,), lambda g: (g * xp.sign(x.data),), replay)


def erf(x: Any) -> Tensor:
    """The error function (used by the exact GELU)."""
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    c = 2.0 / math.sqrt(math.pi)
    erf = backend.special(xp).erf
    y = erf(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def backward(g: Any) -> tuple[Any]:
        return (g * (c * xp.exp(-(x.data * x.data))),)

    def replay() -> None:
        prepare(state, y, x, x0)
        erf(x.data, out=y)

    return make_result(y, "erf", (x,), backward, replay)


# ----------------------------------------------------------------------- clip and select
def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - numpy's names
    """Limit values to ``[min, max]`` (either may be None), as ``torch.clamp``.

    The bounds are numbers, arrays or tensors, and broadcast with ``x`` (the result takes the
    broadcast shape). Where ``min > max`` the result is ``max``. The gradient passes to ``x``
    where ``min <= x <= max``, bounds included, and to a bound tensor where it is the result.
    """
    x0, x = x, operand(x)
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given; got neither.")
    if _scalar_bound(min) and _scalar_bound(max) and x.data.dtype.kind == "f":
        return _clip_scalar(x, x0, min, max)  # the common case, x.clip(-1, 1): no broadcast
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
        above = above if above.ndim else xp.asarray(above)
        data = above if hi is None else xp.minimum(above, hi.data)
    except ValueError:
        raise broadcast_error("clip", *(t for t in (x, lo, hi) if t is not None)) from None
    data = data if data.ndim else xp.asarray(data)
    state: list[Any] = []

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

    def replay() -> None:
        prepare(state, data, x, x0, lo, min, hi, max)
        if lo is not None:
            xp.maximum(X, lo.data, out=above)
        if hi is not None:
            xp.minimum(above, hi.data, out=data)

    parents = tuple(t for t in (x, lo, hi) if t is not None)
    return make_result(data, "clip", parents, backward, replay)


def _scalar_bound(bound: Any) -> bool:
    return bound is None or (not isinstance(bound, Tensor) and backend.numpy.ndim(bound) == 0)


def _clip_scalar(x: Tensor, x0: Any, min: Any, max: Any) -> Tensor:  # noqa: A002
    xp = backend.get_array_module(x.data)
    dt = x.data.dtype.type
    lo = None if min is None else dt(min)
    hi = None if max is None else dt(max)
    data = xp.clip(x.data, lo, hi)
    data = data if data.ndim else xp.asarray(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, x, x0).clip(x.data, lo, hi, out=data)

    def backward(g: Any) -> tuple[Any]:
        inside = True
        if lo is not None:
            inside = x.data >= lo
        if hi is not None:
            inside = inside & (x.data <= hi)
        return (g * inside,)

    return make_result(data, "clip", (x,), backward, replay)


def _extremum(op: str, a: Any, b: Any, take_a: Any) -> Tensor:
    a0, b0 = a, b
    a, b = pair(op, a, b)
    xp = backend.get_array_module(a.data)
    ufunc = xp.maximum if op == "maximum" else xp.minimum
    try:
        data = ufunc(a.data, b.data)
    except ValueError:
        raise broadcast_error(op, a, b) from None
    data = data if data.ndim else xp.asarray(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, a, a0, b, b0)
        ufunc(a.data, b.data, out=data)

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

    return make_result(data, op, (a, b), backward, replay)


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
    a0, b0 = a, b
    a, b = pair("where", a, b)
    try:
        data = xp.where(cond, a.data, b.data)
    except ValueError:
        raise broadcast_error("where", wrap(cond), a, b) from None
    state: list[Any] = []

    def replay() -> None:  # copies: the same numbers as where's selection, in place
        prepare(state, data, a, a0, b, b0)
        xp.copyto(data, b.data)
        xp.copyto(data, a.data, where=cond)

    def backward(g: Any) -> tuple[Any, Any]:
        return (
            sum_to(xp.where(cond, g, 0.0), a.data.shape) if a.requires_grad else None,
            sum_to(xp.where(cond, 0.0, g), b.data.shape) if b.requires_grad else None,
        )

    return make_result(data, "where", (a, b), backward, replay)
