"""Comparisons: boolean tensors with no gradient, recorded as ops so a captured step
(:func:`sinapsi.capture`) recomputes a mask such as ``x > 0`` instead of keeping its first
values, as ``torch.gt`` and friends."""

from __future__ import annotations

import operator
from typing import Any

from .. import backend
from ..autograd import make_result
from ..tensor import Tensor
from ._util import prepare

__all__ = ["gt", "ge", "lt", "le", "eq", "ne"]


def _compare(op: str, compare: Any, x: Any, other: Any) -> Tensor:
    """``compare(x, other)`` (NumPy's ufunc ``op``): a boolean tensor with no gradient, whose
    replay recomputes it (a mask made with ``x.data > 0`` would keep its first values)."""
    a = x.data if isinstance(x, Tensor) else x
    b = other.data if isinstance(other, Tensor) else other
    data = compare(a, b)
    if not getattr(data, "ndim", 0):  # a NumPy scalar (or a bool, comparing two numbers)
        data = backend.get_array_module(data).asarray(data)
    state: list[Any] = []

    def replay() -> None:  # arguments held by reference: tensors' data, arrays, or numbers
        ufunc = getattr(prepare(state, data), op)
        ufunc(a if a is x else x.data, b if b is other else other.data, out=data)

    return make_result(data, op, (), lambda g: (), replay)


def gt(x: Any, other: Any) -> Tensor:
    """``x > other`` (elementwise, broadcast): a boolean tensor, as ``torch.gt``."""
    return _compare("greater", operator.gt, x, other)


def ge(x: Any, other: Any) -> Tensor:
    """``x >= other``, as ``torch.ge``."""
    return _compare("greater_equal", operator.ge, x, other)


def lt(x: Any, other: Any) -> Tensor:
    """``x < other``, as ``torch.lt``."""
    return _compare("less", operator.lt, x, other)


def le(x: Any, other: Any) -> Tensor:
    """``x <= other``, as ``torch.le``."""
    return _compare("less_equal", operator.le, x, other)


def eq(x: Any, other: Any) -> Tensor:
    """``x == other``, as ``torch.eq``."""
    return _compare("equal", operator.eq, x, other)


def ne(x: Any, other: Any) -> Tensor:
    """``x != other``, as ``torch.ne``."""
    return _compare("not_equal", operator.ne, x, other)
