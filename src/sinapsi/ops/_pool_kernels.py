"""numba kernels of the layer ops: :mod:`sinapsi.ops.pool`'s 2x2 max pooling,
:func:`sinapsi.ops.batch_norm` and :func:`sinapsi.ops.relu` (imported only when numba is
present; see :mod:`sinapsi._numba`). Each has a NumPy path, tested against the same results.

Max pooling with kernel 2 and stride 2, the pooling of nearly every convnet, in one pass
each way: the forward reads each input once and writes the maximum and the winner's offset
(0-3, a uint8) per window; the backward writes every input gradient once (the window's
gradient at the winner, 0 elsewhere). The NumPy path takes three maximum passes forward,
and backward three equality masks and four masked products, 8x slower on (64, 32, 26, 26).

Two loop orders, one per memory layout, so the innermost loop always runs along contiguous
memory: (N, C, H, W) arrays loop over output columns, channels-last ones (N, H, W, C) over
channels. Ties and NaN go where PyTorch sends them: a later offset wins only if strictly
larger, or NaN. Serial on purpose (see :mod:`sinapsi.optim._numba_kernels`: numba's threads
spin after each call and fight BLAS's for the two cores).
"""

import numpy as np
from numba import njit

__all__ = [
    "max_pool_2x2", "bn_stats_rows", "bn_stats_planes", "bn_apply_rows", "bn_apply_planes",
    "bn_grad_sums_rows", "bn_grad_sums_planes", "bn_dx_rows", "bn_dx_planes", "bn_running",
    "relu_forward", "relu_backward",
]  # fmt: skip


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
    ``x``'s layout; the backward: a function of the output's gradient (any layout) that
    returns the input's gradient, in ``x``'s layout; and the replay: a function of a new
    input of ``x``'s shape and layout that rewrites the output and the winners in place."""
    n, c, h, w = x.shape
    ho, wo = out_size
    if channels_last:
        out = np.empty((n, ho, wo, c), x.dtype)
        idx = np.empty((n, ho, wo, c), np.uint8)
        data = out.transpose(0, 3, 1, 2)
    else:
        out = np.empty((n, c, ho, wo), x.dtype)
        idx = np.empty((n, c, ho, wo), np.uint8)
        data = out

    def replay(image):
        if channels_last:
            _forward_nhwc(image.transpose(0, 2, 3, 1), out, idx)
        else:
            _forward_nchw(image, out, idx)

    replay(x)

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

    return data, backward, replay


# --------------------------------------------------------------------------- batch norm
#
# Batch normalization of (N, C, H, W) images, per channel, in a few passes over memory where
# the NumPy path takes about six each way: the statistics (sums in float64), then one pass
# writing the output; the backward's two sums, then one pass writing dx. x_hat is recomputed
# from x rather than stored. Two layouts: channels-last memory as (M, C) rows (the channel
# loop, innermost, vectorizes), and NCHW memory as (N, C, L) planes (sums over each plane,
# vectorized by letting LLVM reorder the additions: ``fastmath={"reassoc"}`` only, NaN and
# inf keep their meaning).

_REASSOC = {"reassoc"}


@njit(cache=True, nogil=True)
def bn_stats_rows(x, mean, var):  # pragma: no cover - compiled
    """Per-column mean and biased variance of (M, C) ``x`` (two passes, float64 sums, stored
    in the dtype of ``mean`` and ``var``)."""
    m, c = x.shape
    s = np.zeros(c)
    mu = np.empty(c)
    for i in range(m):
        for j in range(c):
            s[j] += x[i, j]
    for j in range(c):
        mu[j] = s[j] / m
        s[j] = 0.0
    for i in range(m):
        for j in range(c):
            d = x[i, j] - mu[j]
            s[j] += d * d
    for j in range(c):
        mean[j] = mu[j]
        var[j] = s[j] / m


@njit(cache=True, nogil=True, fastmath=_REASSOC)
def bn_stats_planes(x, mean, var):  # pragma: no cover - compiled
    """Per-channel mean and biased variance of (N, C, L) ``x`` over N and L."""
    n, c, l = x.shape
    count = n * l
    for j in range(c):
        s = 0.0
        for a in range(n):
            for k in range(l):
                s += x[a, j, k]
        mu = s / count
        q = 0.0
        for a in range(n):
            for k in range(l):
                d = x[a, j, k] - mu
                q += d * d
        mean[j] = mu
        var[j] = q / count


@njit(cache=True, nogil=True)
def bn_apply_rows(x, mean, scale, shift, out):  # pragma: no cover - compiled
    """``out = (x - mean) * scale + shift`` per column of (M, C) arrays."""
    m, c = x.shape
    for i in range(m):
        for j in range(c):
            out[i, j] = (x[i, j] - mean[j]) * scale[j] + shift[j]


@njit(cache=True, nogil=True)
def bn_apply_planes(x, mean, scale, shift, out):  # pragma: no cover - compiled
    n, c, l = x.shape
    for a in range(n):
        for j in range(c):
            mu, sc, sh = mean[j], scale[j], shift[j]
            for k in range(l):
                out[a, j, k] = (x[a, j, k] - mu) * sc + sh


@njit(cache=True, nogil=True)
def bn_grad_sums_rows(x, g, mean, g_sum, gx_sum):  # pragma: no cover - compiled
    """Per column: ``sum(g)`` and ``sum(g * (x - mean))`` (float64)."""
    m, c = x.shape
    for j in range(c):
        g_sum[j] = 0.0
        gx_sum[j] = 0.0
    for i in range(m):
        for j in range(c):
            v = g[i, j]
            g_sum[j] += v
            gx_sum[j] += v * (x[i, j] - mean[j])


@njit(cache=True, nogil=True, fastmath=_REASSOC)
def bn_grad_sums_planes(x, g, mean, g_sum, gx_sum):  # pragma: no cover - compiled
    n, c, l = x.shape
    for j in range(c):
        mu = mean[j]
        s = 0.0
        q = 0.0
        for a in range(n):
            for k in range(l):
                v = g[a, j, k]
                s += v
                q += v * (x[a, j, k] - mu)
        g_sum[j] = s
        gx_sum[j] = q


@njit(cache=True, nogil=True)
def _dx_coefficients(g_sum, gx_centered, inv_std, count, like):  # pragma: no cover - compiled
    """Per channel ``mean(g)`` and ``inv_std * mean(g * x_hat)`` (from the float64 sums), in
    the dtype of ``like``."""
    shift, slope = np.empty_like(like), np.empty_like(like)
    for j in range(g_sum.size):
        shift[j] = g_sum[j] / count
        slope[j] = inv_std[j] * (gx_centered[j] * inv_std[j] / count)
    return shift, slope


@njit(cache=True, nogil=True)
def bn_running(running_mean, running_var, mean, var, factor, var_factor):  # pragma: no cover
    """PyTorch's running statistics, in place: ``running = (1 - factor) * running +
    factor * stat``, the variance's factor making it unbiased (float64 arithmetic)."""
    for j in range(running_mean.size):
        running_mean[j] = running_mean[j] * (1.0 - factor) + factor * mean[j]
        running_var[j] = running_var[j] * (1.0 - factor) + var_factor * var[j]


@njit(cache=True, nogil=True)
def bn_dx_rows(x, g, mean, g_sum, gx_centered, inv_std, scale, dx):  # pragma: no cover
    """The training backward, ``dx = (g - mean(g) - x_hat * mean(g * x_hat)) * scale``, per
    column, from the sums of :func:`bn_grad_sums_rows`."""
    m, c = x.shape
    shift, slope = _dx_coefficients(g_sum, gx_centered, inv_std, m, mean)
    for i in range(m):
        for j in range(c):
            dx[i, j] = (g[i, j] - shift[j] - (x[i, j] - mean[j]) * slope[j]) * scale[j]


@njit(cache=True, nogil=True)
def bn_dx_planes(x, g, mean, g_sum, gx_centered, inv_std, scale, dx):  # pragma: no cover
    n, c, l = x.shape
    shift, slope = _dx_coefficients(g_sum, gx_centered, inv_std, n * l, mean)
    for a in range(n):
        for j in range(c):
            mu, sh, sl, sc = mean[j], shift[j], slope[j], scale[j]
            for k in range(l):
                dx[a, j, k] = (g[a, j, k] - sh - (x[a, j, k] - mu) * sl) * sc


# --------------------------------------------------------------------------- relu
#
# ReLU of a float32/float64 array, flat (C-contiguous memory), one pass each way: NumPy's
# ``maximum(x, 0)`` against a scalar does not take its SIMD loop (13 us on (128, 256) float32
# against 2.7 here) and ``g * (y > 0)`` makes and casts a bool mask (12 us against 4).


@njit(cache=True, nogil=True)
def relu_forward(x, y):  # pragma: no cover - compiled
    """``y = maximum(x, 0)``, bit for bit NumPy's: NaN kept, -0.0 -> +0.0, -inf -> 0."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        y[i] = v if v > zero or v != v else zero


@njit(cache=True, nogil=True)
def relu_backward(g, y, gx):  # pragma: no cover - compiled
    """``gx = g * (y > 0)``, bit for bit: ``g`` where y > 0, else ``g * 0`` (NaN for an
    infinite or NaN ``g``, -0.0 for a negative one, as the product gives)."""
    zero = g.dtype.type(0)
    for i in range(g.size):
        v = g[i]
        gx[i] = v if y[i] > zero else v * zero
