"""im2col and col2im for conv2d, channels last (NHWC), from kh*kw strided slice copies, or
one pass each in the optional numba kernels (:mod:`sinapsi.ops._conv_kernels`).

``geometry`` is ``(n, h, w, c, ho, wo, kh, kw, stride, dilation, pads, groups)``. The column
matrix is ``(N*Ho*Wo, G, Kb)``: for each output pixel and group, the kh*kw*Cg kernel taps in
(row, column, channel) order, the order of the weight reshaped by conv2d, then (``Kb`` one
more) a column of ones that multiplies the bias, so the bias rides in the GEMMs.
"""

from __future__ import annotations

from typing import Any

from .. import _numba

_KERNELS = "sinapsi.ops._conv_kernels"

# Reused column buffers. A fresh (N*Ho*Wo, kh*kw*C) buffer per call costs page faults: glibc
# hands a freed block of that size back to the system and maps new zero pages the next time,
# measured at a quarter of a 32->64 3x3 layer's training step. A few freed buffers per shape
# wait here for the next call instead (at most _POOL_BYTES in all).
_POOL: dict[tuple[Any, ...], list[Any]] = {}
_POOL_PER_SHAPE = 2
_POOL_BYTES = 256 * 2**20


def take(xp: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """An uninitialized array, a pooled one when a NumPy buffer of that shape is free."""
    if xp is _numba.backend.numpy:
        stack = _POOL.get((shape, xp.dtype(dtype).str))
        if stack:
            try:
                return stack.pop()
            except IndexError:  # another thread took it meanwhile
                pass
    return xp.empty(shape, dtype)


def give(array: Any) -> None:
    """Put a buffer that nothing else references back for :func:`take`."""
    if type(array) is not _numba._ndarray or array.base is not None:
        return
    stack = _POOL.setdefault((array.shape, array.dtype.str), [])
    pooled = sum(a.nbytes for held in _POOL.values() for a in held)
    if len(stack) < _POOL_PER_SHAPE and pooled + array.nbytes <= _POOL_BYTES:
        stack.append(array)


class Lease:
    """Holds a taken buffer and gives it back when dropped: conv2d's backward closure holds
    the columns this way, so they return to the pool when the graph is freed."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __del__(self) -> None:
        try:
            give(self.array)
        except Exception:  # noqa: S110 - interpreter shutdown: nothing to give back to
            pass


def _kernel_args(geometry: tuple) -> tuple[int, ...]:
    _, _, _, _, ho, wo, kh, kw, (sh, sw), (dh, dw), ((pt, _), (pl, _)), _ = geometry
    return kh, kw, sh, sw, dh, dw, pt, pl, ho, wo


def _numba_takes(a: Any, per_group: int) -> bool:
    """A NumPy float32/float64 array (any strides: the kernels index them), and more than one
    channel per group: with one, NumPy's slice copies measured faster (3-5x) than the kernel."""
    return (
        per_group > 1
        and type(a) is _numba._ndarray
        and a.dtype.kind == "f"
        and a.dtype.itemsize in (4, 8)
    )


def pad_nhwc(xp: Any, xt: Any, pads: tuple[tuple[int, int], ...], workspace: Any = None) -> Any:
    """``xt`` (N, H, W, C, any strides) zero-padded on H and W; itself when there is no pad.
    ``workspace`` (a dict, or None): keeps the padded buffer for the next call, which then
    only rewrites its inside (a replay's; the border is still zero)."""
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return xt
    n, h, w, c = xt.shape
    out = None if workspace is None else workspace.get("pad")
    if out is None:
        out = xp.empty((n, h + pt + pb, w + pl + pr, c), xt.dtype)
        out[:, :pt] = 0  # only the border is zeroed: the inside is written once
        out[:, pt + h :] = 0
        out[:, pt : pt + h, :pl] = 0
        out[:, pt : pt + h, pl + w :] = 0
        if workspace is not None:
            workspace["pad"] = out
    out[:, pt : pt + h, pl : pl + w] = xt
    return out


def _window(i: int, j: int, geometry: tuple) -> tuple[slice, slice]:
    """The rows and columns of the padded input that tap (i, j) reads for every output pixel."""
    _, _, _, _, ho, wo, _, _, (sh, sw), (dh, dw), _, _ = geometry
    return (
        slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
        slice(j * dw, j * dw + sw * (wo - 1) + 1, sw),
    )


def im2col(
    xp: Any, xt: Any, geometry: tuple, bias: bool, out: Any = None, workspace: Any = None
) -> Any:
    """The (N*Ho*Wo, G, Kb) column matrix of the NHWC input ``xt`` (any strides), padded with
    zeros as ``geometry`` says; with ``bias``, a last column of ones. Written into ``out``
    when given (a replay refills the forward's columns), else into a pooled buffer;
    ``workspace``: see :func:`pad_nhwc`."""
    n, _, _, c, ho, wo, kh, kw, _, _, pads, groups = geometry
    cg = c // groups
    k = kh * kw * cg
    cols = take(xp, (n * ho * wo, groups, k + bias), xt.dtype) if out is None else out
    kernels = _numba.kernels(_KERNELS) if _numba_takes(xt, cg) else None
    if kernels is not None and cols.size:
        kernels.im2col(xt, cols, *_kernel_args(geometry))
        return cols
    if bias:
        cols[:, :, k] = 1
    taps = cols[:, :, :k].reshape(n, ho, wo, groups, kh, kw, cg)
    xpad = pad_nhwc(xp, xt, pads, workspace)
    src = xpad.reshape(xpad.shape[:3] + (groups, cg))
    for i in range(kh):
        for j in range(kw):
            rows, columns = _window(i, j, geometry)
            taps[:, :, :, :, i, j, :] = src[:, rows, columns]
    return cols


def col2im(xp: Any, dcols: Any, geometry: tuple, dtype: Any) -> Any:
    """The gradient of the unpadded NHWC input from the columns' gradient (M, G, K): the
    slice-adds that undo :func:`im2col`. Returns an (N, H, W, C) array or view."""
    n, h, w, c, ho, wo, kh, kw, _, _, ((pt, pb), (pl, pr)), groups = geometry
    cg = c // groups
    kernels = _numba.kernels(_KERNELS) if _numba_takes(dcols, cg) else None
    if kernels is not None and dcols.size:
        dx = xp.empty((n, h, w, c), dtype)
        kernels.col2im(dcols, dx, *_kernel_args(geometry))
        return dx
    d7 = dcols.reshape(n, ho, wo, groups, kh, kw, cg)
    out = xp.zeros((n, h + pt + pb, w + pl + pr, groups, cg), dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _window(i, j, geometry)
            out[:, rows, columns] += d7[:, :, :, :, i, j, :]
    return out.reshape(n, h + pt + pb, w + pl + pr, c)[:, pt : pt + h, pl : pl + w]


def im2col_one_channel(
    xp: Any, x: Any, geometry: tuple, bias: bool, out: Any = None, workspace: Any = None
) -> Any:
    """For a one-channel input ``x`` (N, H, W): the columns transposed, (kh*kw [+1], M), each
    tap one contiguous row copied from a strided window (3-4x faster than the interleaved
    layout, whose rows are kh*kw floats long); a last row of ones with ``bias``. ``out`` and
    ``workspace`` as in :func:`im2col`."""
    n, h, w, _, ho, wo, kh, kw, _, _, ((pt, pb), (pl, pr)), _ = geometry
    k = kh * kw
    cols = take(xp, (k + bias, n * ho * wo), x.dtype) if out is None else out
    if bias:
        cols[k] = 1
    if pt or pb or pl or pr:
        xpad = None if workspace is None else workspace.get("pad")
        if xpad is None:
            xpad = xp.zeros((n, h + pt + pb, w + pl + pr), x.dtype)
            if workspace is not None:
                workspace["pad"] = xpad
        xpad[:, pt : pt + h, pl : pl + w] = x
    else:
        xpad = x
    taps = cols[:k].reshape(kh, kw, n, ho, wo)
    for i in range(kh):
        for j in range(kw):
            taps[i, j] = xpad[(slice(None),) + _window(i, j, geometry)]
    return cols


def col2im_one_channel(xp: Any, dcols: Any, geometry: tuple, dtype: Any) -> Any:
    """The input gradient (N, H, W) from the transposed columns' gradient (kh*kw, M)."""
    n, h, w, _, ho, wo, kh, kw, _, _, ((pt, pb), (pl, pr)), _ = geometry
    out = xp.zeros((n, h + pt + pb, w + pl + pr), dtype)
    taps = dcols.reshape(kh, kw, n, ho, wo)
    for i in range(kh):
        for j in range(kw):
            out[(slice(None),) + _window(i, j, geometry)] += taps[i, j]
    return out[:, pt : pt + h, pl : pl + w]
