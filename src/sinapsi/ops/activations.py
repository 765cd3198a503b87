"""Activation ops: sigmoid, tanh and ReLU, each one node with its backward written under it.

As the elementwise ops (:mod:`sinapsi.ops.elementwise`): each hands ``make_result`` a ``replay``
that recomputes the result in place for :func:`sinapsi.capture`, bit for bit a fresh call's,
and each backward writes, in a captured step's walk, into the array it made on the first one
(``reused``/``keep``). ReLU runs one-pass numba kernels where they apply.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .. import _numba, backend
from ..autograd import make_result
from ..tensor import Tensor
from ._util import floating, keep, operand, prepare, reused, scalar_array

__all__ = ["sigmoid", "tanh", "relu"]


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``, computed without overflow for any x.

    A primitive rather than a composition: the composed form overflows ``exp(-x)`` for very
    negative x, and the derivative from the output, ``y * (1 - y)``, is exact and cheap.
    """
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    expit = backend.special(xp).expit
    y = expit(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, y, x, x0)
        expit(x.data, out=y)

    one = scalar_array(xp, 1.0, y.dtype)

    def backward(g: Any) -> tuple[Any]:  # g * (y * (1 - y)), in one new array
        t = reused()
        t = xp.subtract(one, y, out=xp.empty_like(y) if t is None else t)  # 0-d y: an array
        xp.multiply(y, t, out=t)
        return (keep(xp.multiply(g, t, out=t)),)

    return make_result(y, "sigmoid", (x,), backward, replay)


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent; its gradient is ``1 - tanh(x)**2``."""
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    y = xp.tanh(x.data)
    y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, y, x, x0).tanh(x.data, out=y)

    one = scalar_array(xp, 1.0, y.dtype)

    def backward(g: Any) -> tuple[Any]:  # g * (1 - y * y), in one new array
        t = reused()
        t = xp.multiply(y, y, out=xp.empty_like(y) if t is None else t)  # 0-d y: an array
        xp.subtract(one, t, out=t)
        return (keep(xp.multiply(g, t, out=t)),)

    return make_result(y, "tanh", (x,), backward, replay)


# ReLU runs the numba kernels where they apply; else NumPy's maximum against zeros, not the scalar
# 0: with two arrays it takes its SIMD loop (4 against 13 us on (128, 256) float32). The zeros
# are one read-only buffer of _ZERO_CHUNK elements per dtype, a larger input done chunk by chunk.
# All three give the same bits; an eager call on a small input (up to _SMALL elements) takes the
# scalar, which needs no setup.
_ZERO_CHUNK = 1 << 16
_SMALL = 4096
_zero_chunks: dict[Any, Any] = {}


def _relu_kernels(a: Any) -> Any:
    """The numba kernels for a C-contiguous float32/float64 NumPy array, or None."""
    if type(a) is backend.numpy.ndarray and a.dtype.char in "fd" and a.flags.c_contiguous:
        return _numba.kernels("sinapsi.ops._pool_kernels")
    return None


def _relu_pass(X: Any, y: Any) -> Callable[[], Any]:  # noqa: N803
    """A function that writes ``maximum(X, 0)`` into ``y`` (X's shape, dtype and layout) each
    time it is called, the fastest way that applies."""
    np_, kern = backend.numpy, _relu_kernels(X)
    if kern is not None:
        return functools.partial(kern.relu_forward, X.reshape(-1), y.reshape(-1))
    if type(X) is not np_.ndarray or not X.flags.c_contiguous or X.dtype.kind not in "biuf":
        return functools.partial(backend.get_array_module(X).maximum, X, X.dtype.type(0), out=y)
    if X.dtype not in _zero_chunks:
        _zero_chunks[X.dtype] = np_.zeros(_ZERO_CHUNK, X.dtype)
        _zero_chunks[X.dtype].flags.writeable = False
    zeros, flat_x, flat_y, n = _zero_chunks[X.dtype], X.reshape(-1), y.reshape(-1), X.size
    if n <= _ZERO_CHUNK:
        return functools.partial(np_.maximum, flat_x, zeros[:n], out=flat_y)
    parts = [slice(i, min(i + _ZERO_CHUNK, n)) for i in range(0, n, _ZERO_CHUNK)]
    chunks = [(flat_x[s], zeros[: s.stop - s.start], flat_y[s]) for s in parts]
    return lambda: [np_.maximum(a, z, out=out) for a, z, out in chunks]


def _relu_backward(y: Any) -> Callable[[Any], tuple[Any]]:
    """``g * (y > 0)``, with the numba kernel (one pass, no bool mask) where it applies."""
    kern: list[Any] = []  # looked up on the first call
    masks: list[Any] = []  # y > 0, for a captured step's walks

    def backward(g: Any) -> tuple[Any]:
        if not kern:
            kern.append(_relu_kernels(y))
        gx = reused()
        if kern[0] is None or g.dtype != y.dtype or g.shape != y.shape or not _numba.applies(g):
            if gx is None:
                return (keep(g * (y > 0)),)
            xp = backend.get_array_module(g)  # a replayed step: the mask's array kept too
            if not masks:
                masks.append(xp.empty(y.shape, bool))
            return (xp.multiply(g, xp.greater(y, 0, out=masks[0]), out=gx),)
        gx = backend.numpy.empty_like(y) if gx is None else gx
        kern[0].relu_backward(g.reshape(-1), y.reshape(-1), gx.reshape(-1))
        return (keep(gx),)

    return backward


def relu(x: Any) -> Tensor:
    """``max(x, 0)``, NaN kept; the gradient at exactly 0 is 0, as in PyTorch. Keeps the dtype:
    float, or int as torch."""
    x0, x = x, operand(x)
    X = x.data  # noqa: N806
    xp = backend.get_array_module(X)
    if X.size > _SMALL:
        y = xp.empty_like(X)
        _relu_pass(X, y)()
    else:
        y = xp.maximum(X, X.dtype.type(0))
        y = y if y.ndim else xp.asarray(y)
    state: list[Any] = []
    passes: list[Any] = []  # made on the first replay

    def replay() -> None:
        prepare(state, y, x, x0)
        if not passes:
            passes.append(_relu_pass(X, y))
        passes[0]()

    return make_result(y, "relu", (x,), _relu_backward(y), replay)
