"""Matrix products: matmul (1-D, 2-D and batched, NumPy semantics) and the fused linear layer op."""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..autograd import make_result, sum_to
from ..tensor import Tensor
from ._util import keep, pair, reused

__all__ = ["matmul", "linear"]


def _matmul_error(a: Tensor, b: Tensor) -> ValueError:
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    where_b = "its only axis" if b.ndim == 1 else "its second-to-last axis"
    return ValueError(
        f"matmul: cannot multiply shapes {a.shape} and {b.shape}: the last axis of the first "
        f"({a.shape[-1]}) must equal {where_b} of the second ({inner_b})"
        + (" and the batch axes must broadcast." if a.ndim > 2 or b.ndim > 2 else ".")
    )


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with ``numpy.matmul`` semantics.

    Shapes: ``(n, k) @ (k, m) -> (n, m)``; a 1-D operand is a vector (its axis is removed from
    the result); leading batch axes broadcast, ``(B, n, k) @ (k, m) -> (B, n, m)``.
    """
    a, b = pair("matmul", a, b)
    A, B = a.data, b.data  # noqa: N806 - matrix names
    if A.ndim == 0 or B.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension; got shapes {a.shape} and "
            f"{b.shape}. Use mul (*) for scalars."
        )
    if A.shape[-1] != (B.shape[0] if B.ndim == 1 else B.shape[-2]):
        raise _matmul_error(a, b)
    try:
        data = A @ B
    except ValueError:
        raise _matmul_error(a, b) from None
    xp = backend.get_array_module(A)
    if A.ndim == 1 and B.ndim == 1:  # a NumPy scalar: made a 0-d array, written in place
        data = xp.asarray(data)

    def replay() -> None:
        xp.matmul(A, B, out=data)

    if A.ndim == 2 and B.ndim == 2:  # the common case, without the general reshaping

        def backward2d(g: Any) -> tuple[Any, Any]:
            return (
                g @ B.T if a.requires_grad else None,
                A.T @ g if b.requires_grad else None,
            )

        return make_result(data, "matmul", (a, b), backward2d, replay)

    def backward(g: Any) -> tuple[Any, Any]:
        xp = backend.get_array_module(g)
        A2 = A[None, :] if A.ndim == 1 else A  # noqa: N806
        B2 = B[:, None] if B.ndim == 1 else B  # noqa: N806
        if a.ndim == 1 and b.ndim == 1:
            g2 = g.reshape(1, 1)
        elif a.ndim == 1:
            g2 = xp.expand_dims(g, -2)
        elif b.ndim == 1:
            g2 = xp.expand_dims(g, -1)
        else:
            g2 = g
        ga = gb = None
        if a.requires_grad:
            ga = sum_to(g2 @ xp.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
        if b.requires_grad:
            gb = sum_to(xp.swapaxes(A2, -1, -2) @ g2, B2.shape).reshape(B.shape)
        return ga, gb

    return make_result(data, "matmul", (a, b), backward, replay)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """``x @ weight.T + bias`` as one graph node (``torch.nn.functional.linear``).

    Shapes: x ``(..., in)``, weight ``(out, in)``, bias ``(out,)`` -> ``(..., out)``. Fused
    because it is the hot path of every MLP: one node instead of three, and the bias gradient is
    a single column sum.
    """
    x, weight = pair("linear", x, weight)
    if bias is not None:
        weight, bias = pair("linear", weight, bias)
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} needs its last axis to equal the weight's in "
            f"features; weight has shape {weight.shape} (out_features, in_features)."
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias must have shape ({weight.shape[0]},) to match weight {weight.shape}; "
            f"got {bias.shape}."
        )
    X, W = x.data, weight.data  # noqa: N806
    data = X @ W.T
    if bias is not None:
        data += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)

    xp = backend.get_array_module(X)
    matmul, add = xp.matmul, xp.add
    # the column sum of the bias gradient: ndarray.sum's own reduction, without its Python
    # wrapper (~0.7 us of a small network's step) where NumPy's ufunc has one
    column_sum = (
        add.reduce if xp is backend.numpy else (lambda a, axis, out=None: a.sum(axis, out=out))
    )
    flat = X.ndim == 2  # (rows, in) already: no reshaping in backward

    WT = W.T  # noqa: N806 - one transposed view, not one per replay

    def replay() -> None:
        matmul(X, WT, out=data)
        if bias is not None:
            add(data, bias.data, out=data)  # the forward's +=

    def backward(g: Any, out: Any = None) -> tuple[Any, ...]:
        # out (sinapsi.capture): arrays to write the weight's and bias's gradients into
        if flat:
            X, G = x.data, g  # noqa: N806
        else:
            rows = math.prod(x.shape[:-1])  # not -1: a zero-size axis cannot be inferred
            X = x.data.reshape(rows, x.shape[-1])  # noqa: N806
            G = g.reshape(rows, g.shape[-1])  # noqa: N806
        gx = None
        if x.requires_grad:  # g @ W, into the captured step's pooled array where it has one
            W = weight.data  # noqa: N806
            gx = keep(matmul(g, W, out=reused()))
        gw = gb = None
        if weight.requires_grad:
            gw = G.T @ X if out is None or out[1] is None else matmul(G.T, X, out=out[1])
        if bias is None:
            return gx, gw
        if bias.requires_grad:
            if out is None or out[2] is None:
                gb = column_sum(G, axis=0)
            else:
                gb = column_sum(G, axis=0, out=out[2])
        return gx, gw, gb

    backward.writes_into = True  # type: ignore[attr-defined]

    return make_result(data, "linear", parents, backward, replay)
