"""numba kernels of :mod:`sinapsi.ops.pool` (imported only when numba is present; see
:mod:`sinapsi._numba`).

Max pooling with kernel 2 and stride 2, the pooling of nearly every convnet, in one pass
each way: the forward reads each input once and writes the maximum and the winner's offset
(0-3, a uint8) per window; the backward writes every input gradient once (the window's
gradient at the winner, 0 elsewhere). The NumPy path takes three maximum passes, three
comparisons and a select forward, and four masked products backward.

Two loop orders, one per memory layout, so the innermost loop always runs along contiguous
memory: (N, C, H, W) arrays loop over output columns, channels-last ones (N, H, W, C) over
channels. Ties and NaN go where PyTorch sends them: a later offset wins only if strictly
larger, or NaN. Serial on purpose (see :mod:`sinapsi.optim._numba_kernels`: numba's threads
spin after each call and fight BLAS's for the two cores).
"""

import numpy as np
from numba import njit

__all__ = ["max_pool_2x2"]


@njit(cache=True, nogil=True)
def _forward_nchw(x, out, idx):  # pragma: no cover - compiled
    n, c, ho, wo = out.shape
    for a in range(n):
        for b in range(c):
            for i in range(ho):
                for j in range(wo):
                    best = x[a, b, 2 * i, 2 * j]
                    k = 0
                    v = x[a, b, 2 * i, 2 * j + 1]
                    if v > best or v != v:
                        best, k = v, 1
                    v = x[a, b, 2 * i + 1, 2 * j]
                    if v > best or v != v:
                        best, k = v, 2
                    v = x[a, b, 2 * i + 1, 2 * j + 1]
                    if v > best or v != v:
                        best, k = v, 3
                    out[a, b, i, j] = best
                    idx[a, b, i, j] = k


@njit(cache=True, nogil=True)
def _forward_nhwc(x, out, idx):  # pragma: no cover - compiled
    n, ho, wo, c = out.shape
    for a in range(n):
        for i in range(ho):
            for j in range(wo):
                for b in range(c):
                    best = x[a, 2 * i, 2 * j, b]
                    k = 0
                    v = x[a, 2 * i, 2 * j + 1, b]
                    if v > best or v != v:
                        best, k = v, 1
                    v = x[a, 2 * i + 1, 2 * j, b]
                    if v > best or v != v:
                        best, k = v, 2
                    v = x[a, 2 * i + 1, 2 * j + 1, b]
                    if v > best or v != v:
                        best, k = v, 3
                    out[a, i, j, b] = best
                    idx[a, i, j, b] = k


@njit(cache=True, nogil=True)
def _backward_nchw(g, idx, gx):  # pragma: no cover - compiled
    n, c, ho, wo = g.shape
    zero = g.dtype.type(0)
    for a in range(n):
        for b in range(c):
            for i in range(ho):
                for di in range(2):  # the input rows in memory order: 2x faster than both at once
                    for j in range(wo):
                        k = idx[a, b, i, j] - 2 * di
                        v = g[a, b, i, j]
                        gx[a, b, 2 * i + di, 2 * j] = v if k == 0 else zero
                        gx[a, b, 2 * i + di, 2 * j + 1] = v if k == 1 else zero


@njit(cache=True, nogil=True)
def _backward_nhwc(g, idx, gx):  # pragma: no cover - compiled
    """Writes ``gx`` in memory order (4x faster than a window at a time for 32 channels:
    the channel loop vectorizes); for a few channels that inner loop is too short, and a
    window at a time is faster (0.11 against 0.6 ms for (64, 24, 24, 6))."""
    n, ho, wo, c = g.shape
    zero = g.dtype.type(0)
    if c >= 16:
        for a in range(n):
            for i in range(ho):
                for di in range(2):
                    for j in range(wo):
                        for dj in range(2):
                            kk = 2 * di + dj
                            for b in range(c):
                                v = g[a, i, j, b] if idx[a, i, j, b] == kk else zero
                                gx[a, 2 * i + di, 2 * j + dj, b] = v
    else:
        for a in range(n):
            for i in range(ho):
                for j in range(wo):
                    for b in range(c):
                        k = idx[a, i, j, b]
                        v = g[a, i, j, b]
                        gx[a, 2 * i, 2 * j, b] = v if k == 0 else zero
                        gx[a, 2 * i, 2 * j + 1, b] = v if k == 1 else zero
                        gx[a, 2 * i + 1, 2 * j, b] = v if k == 2 else zero
                        gx[a, 2 * i + 1, 2 * j + 1, b] = v if k == 3 else zero


def max_pool_2x2(x, out_size, channels_last):
    """``max_pool2d(x, 2, 2)`` of a C-contiguous (N, C, H, W) ``x``, or of a channels-last one
    (``channels_last``: ``x.transpose(0, 2, 3, 1)`` is C-contiguous). Returns the output, in
    ``x``'s layout, and the backward: a function of the output's gradient (any layout) that
    returns the input's gradient, in ``x``'s layout."""
    n, c, h, w = x.shape
    ho, wo = out_size
    if channels_last:
        xm = x.transpose(0, 2, 3, 1)
        out = np.empty((n, ho, wo, c), x.dtype)
        idx = np.empty((n, ho, wo, c), np.uint8)
        _forward_nhwc(xm, out, idx)
        data = out.transpose(0, 3, 1, 2)
    else:
        out = np.empty((n, c, ho, wo), x.dtype)
        idx = np.empty((n, c, ho, wo), np.uint8)
        _forward_nchw(x, out, idx)
        data = out

    def backward(g):
        if channels_last:
            gm = np.ascontiguousarray(g.transpose(0, 2, 3, 1), dtype=x.dtype)
            gxm = np.empty((n, h, w, c), x.dtype)
            _backward_nhwc(gm, idx, gxm)
            gx = gxm.transpose(0, 3, 1, 2)
        else:
            gx = np.empty((n, c, h, w), x.dtype)
            _backward_nchw(np.ascontiguousarray(g, dtype=x.dtype), idx, gx)
        if 2 * ho != h:
            gx[:, :, 2 * ho :, :] = 0
        if 2 * wo != w:
            gx[:, :, :, 2 * wo :] = 0
        return gx

    return data, backward
