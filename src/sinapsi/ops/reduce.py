"""Reductions over axes: sum, mean, max, min, var, logsumexp, and argmax/argmin.

``axis`` is None (all axes), an int or a tuple of ints; ``keepdims`` keeps reduced axes as size 1.
PyTorch's names ``dim=`` and ``keepdim=`` are accepted as keyword aliases (not by ``max``/``min``
with ``dim``: see :func:`max`). The backward spreads the output gradient back over the reduced
axes.

Every op hands ``make_result`` a replay (for :func:`sinapsi.capture`) that recomputes its result
in place with the forward's own calls plus ``out=`` (``x.sum(axes, out=data)``), so the numbers
are bit for bit a fresh call's; a reduction to one value is kept as a 0-d array, not a NumPy
scalar, so that it can be written in place.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import make_result
from ..tensor import Tensor
from ._util import (
    floating,
    keep,
    max_kept,
    normalize_axes,
    normalize_axis,
    numpy_or_torch_name,
    operand,
    prepare,
    reused,
    scalar_array,
    torch_names,
)
from .elementwise import sub

__all__ = ["sum", "mean", "max", "min", "var", "logsumexp", "argmax", "argmin"]


_SMALL = 4096  # up to this many elements a filled array is cheaper than a broadcast view


def _expand(g: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdims: bool) -> Any:
    """Broadcast a reduced gradient back to the input's ``shape``.

    A read-only view for large inputs; a small input gets a filled array instead (the captured
    step's pooled one, :func:`reused`, where it has one), because ``broadcast_to`` costs ~4 us
    of Python per call, the largest item of a small net's ``mean`` backward.
    """
    xp = backend.get_array_module(g)
    if axes is not None and not keepdims:
        g = xp.expand_dims(g, axes)
    if axes is None and _count(shape, None) <= _SMALL:
        out = reused()
        out = xp.empty(shape, dtype=g.dtype) if out is None else out
        out[...] = g
        return keep(out)
    return xp.broadcast_to(g, shape)


def sum(  # noqa: A001
    x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Sum over ``axis`` (``dim``)."""
    axis, keepdims = torch_names("sum", axis, keepdims, dim, keepdim)
    x0, x = x, operand(x)
    axes = normalize_axes("sum", axis, x.ndim)
    shape = x.data.shape
    data = x.data.sum(axis=axes, keepdims=keepdims)
    data = data if data.ndim else _array(data)
    state: list[Any] = []

    def replay() -> None:
        prepare(state, data, x, x0)
        x.data.sum(axis=axes, keepdims=keepdims, out=data)

    def backward(g: Any) -> tuple[Any]:
        return (_expand(g, shape, axes, keepdims),)

    return make_result(data, "sum", (x,), backward, replay)


def _array(data: Any) -> Any:
    """A 0-d result as a 0-d array, which a replay can write into: NumPy gives a scalar."""
    return backend.numpy.asarray(data) if isinstance(data, backend.numpy.generic) else data


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    n = 1
    for i in range(len(shape)) if axes is None else axes:
        n *= shape[i]
    return n


def mean(
    x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Mean over ``axis`` (``dim``); NaN over no value (a zero-length axis), as PyTorch."""
    axis, keepdims = torch_names("mean", axis, keepdims, dim, keepdim)
    x0, x = x, floating(x)
    axes = normalize_axes("mean", axis, x.ndim)
    shape = x.data.shape
    n = _count(shape, axes)
    # sum * (1/n): ndarray.mean costs several microseconds more per call (and warns on 0/0)
    scale = 1.0 / n if n else float("nan")
    data = x.data.sum(axis=axes, keepdims=keepdims) * scale
    data = data if data.ndim else _array(data)
    state: list[Any] = []
    factor: list[Any] = []  # scale as a 0-d array of data's dtype, made on the first replay

    def replay() -> None:  # the sum into the result (laid out as the sum's own), then * scale
        xp = prepare(state, data, x, x0)
        if xp is backend.numpy:  # ndarray.sum's own reduction, minus its Python wrapper
            xp.add.reduce(x.data, axis=axes, keepdims=keepdims, out=data)
        else:
            x.data.sum(axis=axes, keepdims=keepdims, out=data)
        if not factor:
            factor.append(scalar_array(xp, scale, data.dtype))
        xp.multiply(data, factor[0], out=data)

    def backward(g: Any) -> tuple[Any]:
        return (_expand(g * scale, shape, axes, keepdims),)

    return make_result(data, "mean", (x,), backward, replay)


def _extreme(op: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x0, x = x, operand(x)
    axes = normalize_axes(op, axis, x.ndim)
    if x.data.size == 0:  # only an empty tensor can have an empty axis to reduce
        for a in range(x.ndim) if axes is None else axes:
            if x.shape[a] == 0:
                raise ValueError(
                    f"{op}: cannot reduce over axis {a} of size 0 (tensor shape {x.shape}): an "
                    "empty axis has no maximum or minimum, as in torch.amax. Check the input's "
                    "shape, or reduce over another axis."
                )
    kept = (
        x.data.max(axis=axes, keepdims=True)
        if op == "max"
        else x.data.min(axis=axes, keepdims=True)
    )
    kept = kept if kept.ndim else _array(kept)
    data = kept if keepdims else kept.reshape(_reduced_shape(x.data.shape, axes))
    state: list[Any] = []

    def replay() -> None:  # data is kept or a view of it (dropping axes of length 1)
        prepare(state, data, x, x0)
        (x.data.max if op == "max" else x.data.min)(axis=axes, keepdims=True, out=kept)

    def backward(g: Any) -> tuple[Any]:
        # Ties share the gradient evenly, as torch.amax / torch.max() without dim do.
        hit = x.data == kept
        count = hit.sum(axis=axes, keepdims=True).astype(g.dtype)
        g = g if keepdims else g.reshape(kept.shape)
        return (hit * (g / count),)

    return make_result(data, op, (x,), backward, replay)


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _no_dim(op: str, dim: Any) -> None:
    if dim is not None:
        raise TypeError(
            f"{op}(dim=...) in PyTorch returns (values, indices); sinapsi's {op} returns the "
            f"values only, like torch.a{op}. Call {op}(axis={dim!r}) for the values and "
            f"arg{op}(axis={dim!r}) for the indices."
        )


def max(  # noqa: A001
    x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient evenly (like ``torch.amax``).

    ``dim=`` is refused with a hint: ``torch.max(x, dim)`` returns values *and* indices, and
    unpacking a tensor of values instead would go wrong silently. Use :func:`argmax`.
    """
    _no_dim("max", dim)
    return _extreme("max", x, axis, keepdims if keepdim is None else keepdim)


def min(  # noqa: A001
    x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Minimum over ``axis``; tied minima share the gradient evenly (like ``torch.amin``).
    ``dim=`` is refused as in :func:`max`; use :func:`argmin` for the indices."""
    _no_dim("min", dim)
    return _extreme("min", x, axis, keepdims if keepdim is None else keepdim)


def _arg_extreme(op: str, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Tensor:
    axis, keepdims = torch_names(op, axis, keepdims, dim, keepdim)
    x0, x = x, operand(x)
    data = x.data
    if axis is None:
        if data.size == 0:
            raise ValueError(
                f"{op}: cannot take the {op} of an empty tensor (shape {x.shape}). Pass an "
                "axis of nonzero length, or check the input."
            )
        flat = data.reshape(-1)
        index = flat.argmax() if op == "argmax" else flat.argmin()
        out = index.reshape((1,) * data.ndim) if keepdims else index.reshape(())
    else:
        ax = normalize_axis(op, axis, x.ndim)
        if x.ndim == 0:
            out = backend.get_array_module(data).zeros((), "int64")
            return make_result(out, op, (), _no_gradient, _nothing)  # always 0: no replay work
        if data.shape[ax] == 0:
            raise ValueError(
                f"{op}: cannot reduce over axis {ax} of size 0 (tensor shape {x.shape}): an "
                "empty axis has no index to give. Check the input's shape, or reduce over "
                "another axis."
            )
        out = (
            data.argmax(axis=ax, keepdims=keepdims)
            if op == "argmax"
            else data.argmin(axis=ax, keepdims=keepdims)
        )
    out = out.astype("int64", copy=False)
    out = out if out.ndim else _array(out)
    state: list[Any] = []

    def replay() -> None:  # no gradient, but its value feeds later ops (indices, accuracy)
        prepare(state, out, x, x0)
        if axis is None:
            out[...] = getattr(x.data.reshape(-1), op)()
        else:
            out[...] = getattr(x.data, op)(axis=ax, keepdims=keepdims)

    return make_result(out, op, (), _no_gradient, replay)


def _no_gradient(g: Any) -> tuple[()]:
    return ()


def _nothing() -> None:
    """The replay of a result that cannot change."""


def argmax(
    x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Index of the maximum along ``axis`` (``dim``); of the flattened tensor when None.

    An int64 tensor with no gradient, as ``torch.argmax``; ties give the first index.

    >>> import sinapsi as sn
    >>> sn.argmax(sn.tensor([[1.0, 3.0], [4.0, 0.0]]), dim=1)
    Tensor([1, 0], dtype=int64)
    """
    return _arg_extreme("argmax", x, axis, keepdims, dim, keepdim)


def argmin(
    x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """Index of the minimum along ``axis`` (``dim``), as ``torch.argmin``; see :func:`argmax`."""
    return _arg_extreme("argmin", x, axis, keepdims, dim, keepdim)


def var(
    x: Any,
    axis: Any = None,
    keepdims: bool = False,
    ddof: int | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
    correction: int | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance over ``axis``: ``sum((x - mean)**2) / (n - ddof)``.

    ``ddof=0`` (the default, as in NumPy and Keras) is the biased estimate BatchNorm uses;
    ``ddof=1`` is PyTorch's default ``torch.var`` (``correction=1``). PyTorch's names work:
    ``dim=``, ``keepdim=``, ``correction=`` (= ``ddof``) and ``unbiased=``; ``dim=`` without a
    correction is an error that asks for one, since torch code expects n - 1 where sinapsi's
    default divides by n. Composed from mean, sub, mul and sum, so it needs no backward of its
    own. Fewer than ``ddof + 1`` values are an error, where torch returns NaN with a warning
    (a deliberate difference: a variance of one sample is usually a batch of one where there
    should be more).
    """
    if unbiased is not None:
        if correction is not None:
            raise TypeError(
                f"var: got both unbiased={unbiased!r} and correction={correction!r}; pass one."
            )
        correction = int(bool(unbiased))
    if dim is not None and ddof is None and correction is None:
        raise TypeError(
            "var(dim=...): torch's var divides by n - 1 by default and sinapsi's (NumPy's) by n; "
            "say which: correction=1 as torch, or ddof=0 as NumPy and BatchNorm."
        )
    ddof = numpy_or_torch_name("var", "ddof", ddof, "correction", correction, 0)
    axis, keepdims = torch_names("var", axis, keepdims, dim, keepdim)
    # Only ops touch the values (a converted copy of x made here would not follow x's
    # values in a replayed step): sub and mean convert an integer x to the same floats.
    shape = operand(x).data.shape
    axes = normalize_axes("var", axis, len(shape))
    n = _count(shape, axes)
    if n - ddof <= 0:
        raise ValueError(
            f"var: {n} values with ddof={ddof} leave {n - ddof} degrees of freedom; "
            "need at least 1."
        )
    d = sub(x, mean(x, axes, keepdims=True))
    return sum(d * d, axes, keepdims) * (1.0 / (n - ddof))


def logsumexp(
    x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: Any = None
) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` (``dim``), shifted by the maximum so it never
    overflows; ``-inf`` over a zero-length axis, as PyTorch."""
    axis, keepdims = torch_names("logsumexp", axis, keepdims, dim, keepdim)
    x0, x = x, floating(x)
    xp = backend.get_array_module(x.data)
    axes = normalize_axes("logsumexp", axis, x.ndim)
    peak = max_kept(x.data, axes)
    peak = peak if peak.ndim else xp.asarray(peak)
    zero = peak.dtype.type(0)
    m = xp.where(xp.isfinite(peak), peak, zero)  # rows of all -inf stay -inf, not NaN
    with backend.errstate(xp, divide="ignore"):  # log(0) = -inf for rows of all -inf
        kept = xp.log(xp.exp(x.data - m).sum(axis=axes, keepdims=True)) + m
    kept = kept if kept.ndim else xp.asarray(kept)
    data = kept if keepdims else kept.reshape(_reduced_shape(x.data.shape, axes))
    state: list[Any] = []
    work: list[Any] = []  # the replay's buffers, made on its first run as the forward's were

    def backward(g: Any) -> tuple[Any]:
        g = g if keepdims else g.reshape(kept.shape)
        return (g * xp.exp(x.data - kept),)

    def replay() -> None:
        prepare(state, data, x, x0)
        X = x.data  # noqa: N806
        if X.size:  # else peak is max_kept's zeros
            X.max(axis=axes, keepdims=True, out=peak)
        xp.copyto(m, zero)
        xp.copyto(m, peak, where=xp.isfinite(peak))
        with backend.errstate(xp, divide="ignore"):
            if not work:  # 0-d arrays, not NumPy scalars, for a 0-d x
                shifted = xp.asarray(X - m)
                exps = xp.asarray(xp.exp(shifted))
                sums = xp.asarray(exps.sum(axis=axes, keepdims=True))
                work.extend((shifted, exps, sums, xp.asarray(xp.log(sums))))
            else:
                shifted, exps, sums, logs = work
                xp.subtract(X, m, out=shifted)
                xp.exp(shifted, out=exps)
                exps.sum(axis=axes, keepdims=True, out=sums)
                xp.log(sums, out=logs)
            xp.add(work[3], m, out=kept)

    return make_result(data, "logsumexp", (x,), backward, replay)
