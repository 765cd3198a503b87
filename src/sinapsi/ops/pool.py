"""Pooling ops, NCHW like PyTorch: max_pool2d, avg_pool2d, adaptive_avg_pool2d.

Each op takes (N, C, H, W) or unbatched (C, H, W) input of any strides and returns its result
in the input's memory layout: a channels-last input (an NCHW view of NHWC memory, as conv2d may
return) gives a channels-last output, so a conv stack never pays a transpose copy.

The general path is a loop over the kernel's kh * kw offsets, each a strided slice of the
(padded) input: kh * kw elementwise passes instead of a Python loop over windows. Max pooling
keeps the winning offset per output (int8) for the backward, which then scatters the gradient
with kh * kw masked adds. The common kernel 2, stride 2 case has its own path
(:func:`_max_pool_2x2`): an optional numba kernel, one pass each way in either layout, or
three NumPy maxima forward and equality masks backward.

Max pooling follows PyTorch where values tie (the first maximum in row-major order takes the
gradient) and for NaN (it propagates; the last NaN takes the gradient). One difference: a
window whose values are all -inf sends its gradient to the padding (lost), where PyTorch
sends it to the window's first input element.

Every op hands :func:`~sinapsi.autograd.make_result` a replay (what :func:`sinapsi.capture`
runs): the forward's passes again, written into its own output, winners and padded copy.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import _numba, backend
from ..autograd import make_result
from ..tensor import Tensor
from ._util import floating, int_tuple, prepare

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


# --------------------------------------------------------------------------- argument checks


def _image(op: str, x: Any) -> tuple[Tensor, Any, bool]:
    """``x`` as a floating tensor, its data as 4-D (a view) and whether it was unbatched."""
    x = floating(x)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{op}: expected input of shape (N, C, H, W) or unbatched (C, H, W); got shape "
            f"{x.shape}. Reshape it, e.g. x.reshape(1, 1, H, W) for one grayscale image."
        )
    data = x.data
    return x, (data[None] if x.ndim == 3 else data), x.ndim == 3


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, with its ceil_mode rule: the last window must start
    inside the input or the left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_arguments(
    op: str, kernel: Any, stride: Any, padding: Any, dilation: Any
) -> tuple[tuple[int, int], ...]:
    """Kernel, stride (None or empty: the kernel), padding and dilation as pairs, checked as
    PyTorch does (padding at most half the kernel). ``op`` names the caller in errors (the
    pooling layers check their arguments with it at construction)."""
    k = int_tuple(op, "kernel_size", kernel, 2, 1)
    empty = stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0)
    s = k if empty else int_tuple(op, "stride", stride, 2, 1)
    p = int_tuple(op, "padding", padding, 2, 0)
    d = int_tuple(op, "dilation", dilation, 2, 1)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(
            f"{op}: padding must be at most half the kernel size (as in PyTorch); got "
            f"padding={p} with kernel_size={k}. Use padding <= {(k[0] // 2, k[1] // 2)}."
        )
    return k, s, p, d


def adaptive_size(op: str, output_size: Any, h: int | None = None, w: int | None = None):
    """``output_size`` (an int, or a pair whose None entries keep the input's size ``h``/``w``)
    checked; as a pair when the input size is known."""
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) else None
    if sizes is None:
        try:
            oh, ow = output_size
            sizes = (h if oh is None else oh, w if ow is None else ow)
        except (TypeError, ValueError):
            sizes = None
    ok = sizes is not None and all(
        v is None or isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
        for v in sizes
    )
    if not ok:
        raise ValueError(
            f"{op}: output_size must be a positive int or a pair of positive ints (None keeps "
            f"that size); got output_size={output_size!r}."
        )
    return tuple(None if v is None else int(v) for v in sizes)  # type: ignore[return-value]


def _geometry(
    op: str, shape: tuple[int, ...], kernel: Any, stride: Any, padding: Any, dilation: Any,
    ceil_mode: bool,
) -> tuple[tuple[int, int], ...]:  # fmt: skip
    """Validated (kernel, stride, padding, dilation, output size) pairs for input ``shape``."""
    k, s, p, d = pool_arguments(op, kernel, stride, padding, dilation)
    out = tuple(_out_size(shape[2 + i], k[i], s[i], p[i], d[i], bool(ceil_mode)) for i in range(2))
    if min(out) <= 0:
        raise ValueError(
            f"{op}: the input is too small for kernel_size={k}, stride={s}, padding={p}, "
            f"dilation={d}: output size would be {out} for input shape {shape}. Use a larger "
            "input, a smaller kernel or more padding."
        )
    return k, s, p, d, out


# --------------------------------------------------------------------------- layout helpers


def _channels_last(data: Any) -> bool:
    """Whether a 4-D array is an NCHW view of NHWC-contiguous memory (and not plain NCHW)."""
    return not data.flags.c_contiguous and data.transpose(0, 2, 3, 1).flags.c_contiguous


def _empty(xp: Any, shape: tuple[int, ...], dtype: Any, channels_last: bool, fill: Any = None):
    """A new (N, C, H, W) array laid out as NHWC memory when ``channels_last``."""
    n, c, h, w = shape
    if channels_last:
        out = xp.empty((n, h, w, c), dtype).transpose(0, 3, 1, 2)
    else:
        out = xp.empty(shape, dtype)
    if fill is not None:
        out.fill(fill)
    return out


def _window(i: int, j: int, s: tuple[int, int], d: tuple[int, int], out: tuple[int, int]):
    """The (H, W) slices that pick kernel offset (i, j) of every window."""
    hi, wj = i * d[0], j * d[1]
    return (
        slice(None),
        slice(None),
        slice(hi, hi + s[0] * (out[0] - 1) + 1, s[0]),
        slice(wj, wj + s[1] * (out[1] - 1) + 1, s[1]),
    )


def _padded(xp: Any, X: Any, k, s, p, d, out, fill: float, channels_last: bool) -> Any:  # noqa: N803
    """``X`` padded by ``p`` (and further on the right/bottom where ceil_mode's last window
    needs it) with ``fill``; ``X`` itself when no padding is needed."""
    n, c, h, w = X.shape
    need = [s[i] * (out[i] - 1) + d[i] * (k[i] - 1) + 1 for i in range(2)]
    hp, wp = max(h + 2 * p[0], need[0]), max(w + 2 * p[1], need[1])
    if p == (0, 0) and hp == h and wp == w:
        return X
    P = _empty(xp, (n, c, hp, wp), X.dtype, channels_last, fill)  # noqa: N806
    P[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = X
    return P


def _unpad(G: Any, p: tuple[int, int], h: int, w: int) -> Any:  # noqa: N803
    return G[:, :, p[0] : p[0] + h, p[1] : p[1] + w]


def _result(data: Any, unbatched: bool) -> Any:
    return data[0] if unbatched else data


def _image4(data: Any, unbatched: bool) -> Any:
    """An input's data as the 4-D view the ops work on (a replay's current input)."""
    return data[None] if unbatched else data


# --------------------------------------------------------------------------- max pooling


def max_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """``torch.nn.functional.max_pool2d`` (no return_indices): the maximum of each window.

    Padding counts as -inf. The gradient goes to the first maximum of each window in row-major
    order (PyTorch's choice when values tie).
    """
    x0, (x, X, unbatched) = x, _image("max_pool2d", x)  # noqa: N806
    k, s, p, d, out = _geometry("max_pool2d", X.shape, kernel_size, stride, padding, dilation,
                                ceil_mode)  # fmt: skip
    xp = backend.get_array_module(X)
    n, c, h, w = X.shape
    cl = _channels_last(X)
    if k == (2, 2) and s == (2, 2) and p == (0, 0) and d == (1, 1) and out == (h // 2, w // 2):
        data, backward4, replay4 = _max_pool_2x2(xp, X, out, cl)
    else:
        data, backward4, replay4 = _max_pool_general(xp, X, k, s, p, d, out, cl)

    def backward(g: Any) -> tuple[Any]:
        return (_result(backward4(g[None] if unbatched else g), unbatched),)

    state: list[Any] = []  # (see prepare)

    def replay() -> None:
        prepare(state, data, x, x0)  # an input converted from the argument: again
        replay4(_image4(x.data, unbatched))

    return make_result(_result(data, unbatched), "max_pool2d", (x,), backward, replay)


def _max_pool_general(xp: Any, X: Any, k, s, p, d, out, cl: bool):  # noqa: N803
    """Max over kh * kw strided slices of the -inf-padded input, remembering the winner.
    Returns the output, the backward and the replay (a function of the new 4-D input)."""
    n, c, h, w = X.shape
    P = _padded(xp, X, k, s, p, d, out, -math.inf, cl)  # noqa: N806
    padded = P is not X
    offsets = [(i, j) for i in range(k[0]) for j in range(k[1])]
    best = _empty(xp, (n, c, *out), X.dtype, cl)
    which = _empty(xp, (n, c, *out), xp.int8 if len(offsets) < 128 else xp.int32, cl)
    _max_offsets(xp, P, best, which, offsets, s, d, out, _scratch(xp, which, cl))
    scratch: list[Any] = []  # the replay's comparison buffers, made on its first run

    def replay(image: Any) -> None:
        if padded:  # the border keeps its -inf
            P[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = image
        if not scratch:
            scratch.extend(_scratch(xp, which, cl))
        _max_offsets(xp, P if padded else image, best, which, offsets, s, d, out, scratch)

    def backward(g: Any) -> Any:
        G = _empty(xp, P.shape, g.dtype, cl, 0)  # noqa: N806
        for m, (i, j) in enumerate(offsets):
            G[_window(i, j, s, d, out)] += g * (which == m)
        return _unpad(G, p, h, w)

    return best, backward, replay


def _scratch(xp: Any, which: Any, cl: bool) -> list[Any]:
    """Buffers for :func:`_max_offsets`: two masks and one integer array, in ``which``'s
    shape and layout."""
    shape = which.shape
    masks = [_empty(xp, shape, bool, cl) for _ in range(2)]
    return masks + [_empty(xp, shape, which.dtype, cl)]


def _max_offsets(xp: Any, P: Any, best: Any, which: Any, offsets, s, d, out, scratch) -> None:  # noqa: N803
    """Write the windows' maxima into ``best`` and the winning offset's index into ``which``
    (the forward of :func:`_max_pool_general`, and its replay)."""
    wins, nans, step = scratch
    best[...] = P[_window(0, 0, s, d, out)]
    which.fill(0)
    for m, (i, j) in enumerate(offsets[1:], start=1):
        v = P[_window(i, j, s, d, out)]
        xp.greater(v, best, out=wins)  # strict: ties keep the earlier offset; NaN wins
        xp.not_equal(v, v, out=nans)  # (PyTorch's rule)
        wins |= nans
        xp.maximum(best, v, out=best)  # (NaN propagates, as in PyTorch's forward)
        # Offsets come in increasing order, so a winner's m exceeds any earlier entry:
        # a maximum records it (50x faster than which[wins] = m, a branchy masked copy).
        xp.multiply(wins, which.dtype.type(m), out=step)
        xp.maximum(which, step, out=which)


def _max_pool_2x2(xp: Any, X: Any, out: tuple[int, int], cl: bool):  # noqa: N803
    """Kernel 2, stride 2 (no padding): the numba kernel for float32/float64 NumPy arrays
    in NCHW or channels-last memory; else the four offsets as strided views."""
    n, c, h, w = X.shape
    ho, wo = out
    kern = _numba.kernels("sinapsi.ops._pool_kernels")
    if (
        kern is not None
        and type(X) is backend.numpy.ndarray
        and X.dtype in (backend.numpy.float32, backend.numpy.float64)
        and (cl or X.flags.c_contiguous)
    ):
        return kern.max_pool_2x2(X, out, cl)
    a, b, cc, dd = _quarters(X, out)
    data = xp.maximum(a, b)  # NaN propagates, as in PyTorch
    xp.maximum(data, cc, out=data)
    xp.maximum(data, dd, out=data)
    # Forward only the three maxima (inference pays nothing more); the winners are found in
    # the backward, by equality with the maximum: the first equal offset, as PyTorch breaks
    # ties. A NaN window goes to its last NaN (PyTorch's rule), which equality cannot see:
    # then the winner is found by comparisons, offset by offset.

    def replay(image: Any) -> None:
        nonlocal a, b, cc, dd  # the backward reads the new input's quarters
        a, b, cc, dd = _quarters(image, out)
        xp.maximum(a, b, out=data)
        xp.maximum(data, cc, out=data)
        xp.maximum(data, dd, out=data)

    def backward(g: Any) -> Any:
        G = _empty(xp, X.shape, g.dtype, cl)  # noqa: N806
        if 2 * ho != h or 2 * wo != w:
            G.fill(0)
        parts = [G[:, :, i : 2 * ho : 2, j : 2 * wo : 2] for i in (0, 1) for j in (0, 1)]
        if bool(xp.isnan(data).any()):
            best, which = a.copy(order="K"), _empty(xp, data.shape, xp.int8, cl, 0)
            for m, v in enumerate((b, cc, dd), start=1):
                wins = v > best
                wins |= v != v
                xp.maximum(best, v, out=best)
                xp.maximum(which, wins * xp.int8(m), out=which)  # m grows: see above
            masks = [which == m for m in range(4)]
        else:
            masks, taken = [], None
            for v in (a, b, cc):
                first = v == data
                if taken is None:
                    taken = first.copy(order="K")
                else:
                    first &= ~taken
                    taken |= first
                masks.append(first)
            masks.append(~taken)
        for part, mask in zip(parts, masks):
            xp.multiply(g, mask, out=part)
        return G

    return data, backward, replay


def _quarters(X: Any, out: tuple[int, int]) -> tuple[Any, Any, Any, Any]:  # noqa: N803
    """The four offsets of 2x2 windows with stride 2, as strided views of ``X``."""
    ho, wo = out
    return (
        X[:, :, 0 : 2 * ho : 2, 0 : 2 * wo : 2],
        X[:, :, 0 : 2 * ho : 2, 1 : 2 * wo : 2],
        X[:, :, 1 : 2 * ho : 2, 0 : 2 * wo : 2],
        X[:, :, 1 : 2 * ho : 2, 1 : 2 * wo : 2],
    )


# --------------------------------------------------------------------------- average pooling


def _counts(size: int, k: int, s: int, p: int, out: int, include_pad: bool) -> list[int]:
    """PyTorch's per-axis divisor of each window: its length inside input + padding (include)
    or inside the input only."""
    counts = []
    for o in range(out):
        start = o * s - p
        end = min(start + k, size + p)
        if not include_pad:
            end, start = min(end, size), max(start, 0)
        counts.append(end - start)
    return counts


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """``torch.nn.functional.avg_pool2d``: the mean of each window.

    The divisor is PyTorch's: the window's size within input and padding
    (``count_include_pad=True``), within the input only (False), or ``divisor_override``.
    """
    x0, (x, X, unbatched) = x, _image("avg_pool2d", x)  # noqa: N806
    k, s, p, d, out = _geometry("avg_pool2d", X.shape, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (
        not isinstance(divisor_override, numbers.Integral)
        or isinstance(divisor_override, bool)
        or divisor_override <= 0
    ):
        raise ValueError(
            f"avg_pool2d: divisor_override must be a positive int or None; got "
            f"divisor_override={divisor_override!r}."
        )
    xp = backend.get_array_module(X)
    n, c, h, w = X.shape
    cl = _channels_last(X)
    if divisor_override is not None:
        scale: Any = 1.0 / int(divisor_override)
    else:
        rows = _counts(h, k[0], s[0], p[0], out[0], bool(count_include_pad))
        cols = _counts(w, k[1], s[1], p[1], out[1], bool(count_include_pad))
        div = xp.asarray(rows, dtype=X.dtype)[:, None] * xp.asarray(cols, dtype=X.dtype)
        scale = div if len(set(rows)) > 1 or len(set(cols)) > 1 else 1.0 / (rows[0] * cols[0])
    P = _padded(xp, X, k, s, p, d, out, 0.0, cl)  # noqa: N806
    padded = P is not X
    total = _empty(xp, (n, c, *out), X.dtype, cl)
    _window_means(P, total, k, s, d, out, scale)

    state: list[Any] = []  # (see prepare)

    def replay() -> None:
        prepare(state, total, x, x0)  # an input converted from the argument: again
        image = _image4(x.data, unbatched)
        if padded:  # the border keeps its zeros
            P[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = image
        _window_means(P if padded else image, total, k, s, d, out, scale)

    def backward(g: Any) -> tuple[Any]:
        g4 = g[None] if unbatched else g
        share = g4 * scale if isinstance(scale, float) else g4 / scale
        G = _empty(xp, P.shape, g.dtype, cl, 0)  # noqa: N806
        for i in range(k[0]):
            for j in range(k[1]):
                G[_window(i, j, s, d, out)] += share
        return (_result(_unpad(G, p, h, w), unbatched),)

    return make_result(_result(total, unbatched), "avg_pool2d", (x,), backward, replay)


def _window_means(P: Any, total: Any, k, s, d, out, scale: Any) -> None:  # noqa: N803
    """Write each window's sum of ``P`` into ``total``, then scale it (the forward of
    :func:`avg_pool2d`, and its replay)."""
    total[...] = P[_window(0, 0, s, d, out)]
    for i in range(k[0]):
        for j in range(k[1]):
            if i or j:
                total += P[_window(i, j, s, d, out)]
    if isinstance(scale, float):
        total *= scale
    else:
        total /= scale  # divide, as PyTorch does (the same float32 rounding)


def _adaptive_bounds(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: start = floor(i * in / out), end = ceil((i + 1) * in / out)."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def adaptive_avg_pool2d(x: Any, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """``torch.nn.functional.adaptive_avg_pool2d``: average over windows chosen so the output
    is ``output_size`` (an int, or a pair whose None entries keep that input size).

    The mean over a window is separable, so it is computed as a mean over rows then over
    columns: ``Ho + Wo`` slice reductions rather than ``Ho * Wo``.
    """
    x0, (x, X, unbatched) = x, _image("adaptive_avg_pool2d", x)  # noqa: N806
    n, c, h, w = X.shape
    ho, wo = adaptive_size("adaptive_avg_pool2d", output_size, h, w)
    if h == 0 or w == 0:
        raise ValueError(
            f"adaptive_avg_pool2d: the input has an empty spatial size; got shape {x.shape}."
        )
    xp = backend.get_array_module(X)
    cl = _channels_last(X)
    rows, cols = _adaptive_bounds(h, ho), _adaptive_bounds(w, wo)
    mid = None
    if (ho, wo) == (1, 1):
        data = X.mean(axis=(2, 3), keepdims=True)
        if cl:
            data = xp.ascontiguousarray(data.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    else:
        mid = _empty(xp, (n, c, ho, w), X.dtype, cl)
        data = _empty(xp, (n, c, ho, wo), X.dtype, cl)
        _adaptive_means(X, mid, data, rows, cols)

    state: list[Any] = []  # (see prepare)

    def replay() -> None:
        prepare(state, data, x, x0)  # an input converted from the argument: again
        image = _image4(x.data, unbatched)
        if mid is None:  # the same mean as the forward's, copied into its result
            data[...] = image.mean(axis=(2, 3), keepdims=True)
        else:
            _adaptive_means(image, mid, data, rows, cols)

    def backward(g: Any) -> tuple[Any]:
        g4 = g[None] if unbatched else g
        gmid = _empty(xp, (n, c, ho, w), g.dtype, cl, 0)
        for j, (a, b) in enumerate(cols):
            gmid[:, :, :, a:b] += (g4[:, :, :, j] / (b - a))[..., None]
        G = _empty(xp, (n, c, h, w), g.dtype, cl, 0)  # noqa: N806
        for i, (a, b) in enumerate(rows):
            G[:, :, a:b] += (gmid[:, :, i] / (b - a))[:, :, None]
        return (_result(G, unbatched),)

    return make_result(_result(data, unbatched), "adaptive_avg_pool2d", (x,), backward, replay)


def _adaptive_means(X: Any, mid: Any, data: Any, rows, cols) -> None:  # noqa: N803
    """Window means over rows into ``mid``, then over columns into ``data`` (the forward of
    :func:`adaptive_avg_pool2d` for outputs other than 1x1, and its replay)."""
    for i, (a, b) in enumerate(rows):
        mid[:, :, i] = X[:, :, a:b].sum(axis=2) / (b - a)
    for j, (a, b) in enumerate(cols):
        data[:, :, :, j] = mid[:, :, :, a:b].sum(axis=3) / (b - a)
