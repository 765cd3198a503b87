"""Convolution ops, NCHW like PyTorch: conv2d, and conv1d through the same code.

How it runs (im2col + one GEMM per product, channels last). The input is read as NHWC
(``x.transpose(0, 2, 3, 1)``: free when the input is itself the NCHW view of channels-last
memory, as every conv2d output is). The column matrix ``cols`` (one row per output pixel, one
column per kernel tap and input channel, plus a column of ones for the bias: ``(N*Ho*Wo,
kh*kw*C + 1)``) is built by kh*kw strided slice copies (or one pass of the optional numba kernel,
padding folded in), and the layer is one matrix product with the weight, whose result
``(N, Ho, Wo, O)`` is returned as its NCHW view; the bias rides in that product. The backward is
two more products: ``G.T @ cols`` gives dW and db together, and only when the input needs a
gradient ``dcols = G @ W`` and col2im (kh*kw slice-adds, or the kernel). A one-channel input
(the first layer of an MNIST net) builds the columns transposed instead, one contiguous row per
tap. Groups use the same layout with a batched product per group. Column buffers are pooled
(:mod:`sinapsi.ops._im2col`): fresh ones cost page faults on every step. The replay (what
:func:`sinapsi.capture` runs) rewrites the weight matrix, the columns and the product in place.
"""

from __future__ import annotations

import numbers
from typing import Any

from .. import backend
from ..autograd import is_grad_enabled, make_result
from ..tensor import Tensor
from ._im2col import Lease, col2im, col2im_one_channel, give, im2col, im2col_one_channel, take
from ._util import floating, int_tuple, pair, prepare

__all__ = ["conv2d", "conv1d"]


def _padding(
    op: str, padding: Any, n: int, kernel: tuple[int, ...], dilation: tuple[int, ...],
    stride: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:  # fmt: skip
    """(before, after) per spatial axis; "same" puts the odd extra pad after, as PyTorch."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' needs stride 1; got stride {stride}. Use an explicit "
                    "padding with strides > 1."
                )
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(
            f"{op}: padding must be 'same', 'valid', an int or a tuple of {n} ints; got "
            f"{padding!r}."
        )
    return tuple((p, p) for p in int_tuple(op, "padding", padding, n, 0))


def _check(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: Any, nsp: int) -> None:
    """The shape checks shared by conv1d and conv2d, with the op's own axis names."""
    axes, kernel = ("(N, C, H, W)", "(C, H, W)") if nsp == 2 else ("(N, C, L)", "(C, L)")
    if x.ndim not in (nsp + 1, nsp + 2):
        raise ValueError(
            f"{op}: input must be {nsp + 2}-D {axes} or {nsp + 1}-D {kernel}; got shape {x.shape}."
        )
    if weight.ndim != nsp + 2:
        taps = "kH, kW" if nsp == 2 else "kL"
        raise ValueError(
            f"{op}: weight must be {nsp + 2}-D (out_channels, in_channels/groups, {taps}); got "
            f"shape {weight.shape}."
        )
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int; got {groups!r}.")
    out_channels, per_group = weight.shape[:2]
    channels = x.shape[1 if x.ndim == nsp + 2 else 0]
    if out_channels % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the weight's out_channels; got weight shape "
            f"{weight.shape}."
        )
    if channels != per_group * groups:
        raise ValueError(
            f"{op}: input has {channels} channels but weight expects {per_group * groups} "
            f"(weight shape {weight.shape}, groups={groups}); got input shape {x.shape}."
        )
    if min(weight.shape[2:]) <= 0 or per_group <= 0:
        raise ValueError(f"{op}: the weight has an empty axis; got weight shape {weight.shape}.")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(
            f"{op}: bias must have shape ({out_channels},); got {bias.shape}. One bias per "
            "output channel."
        )


def _image4(a: Any, batched: bool, nsp: int) -> Any:
    """An input or a weight as the 4-D view conv2d works on: a batch axis added to an
    unbatched input, and conv1d's (N, C, L) as (N, C, 1, L)."""
    if not batched:
        a = a[None]
    return a[:, :, None, :] if nsp == 1 else a


def _weight_matrix(wm: Any, Wt: Any, bias: Tensor | None, kernel: tuple[int, int]) -> None:  # noqa: N803
    """Write the weight (O, Cg, kh, kw) into ``wm`` (G, Og, kh*kw*Cg [+1]) in the columns'
    tap order, and the bias into the last column when there is one."""
    g_, og, _ = wm.shape
    kh, kw = kernel
    cg = Wt.shape[1]
    k_cols = kh * kw * cg
    taps = wm[:, :, :k_cols].reshape(g_, og, kh, kw, cg)  # a view: only the last axis splits
    taps[...] = Wt.reshape(g_, og, cg, kh, kw).transpose(0, 1, 3, 4, 2)
    if bias is not None:
        wm[:, :, k_cols] = bias.data.reshape(g_, og)


def _product(xp: Any, cols: Any, wm: Any, res: Any, one: bool) -> None:
    """``res`` (M, O) = the columns times the weight matrix (one GEMM, or one per group)."""
    g_, og, _ = wm.shape
    if one:
        xp.matmul(cols.T, wm[0].T, out=res)
    elif g_ == 1:
        xp.matmul(cols[:, 0], wm[0].T, out=res)
    else:
        out = res.reshape(res.shape[0], g_, og).transpose(1, 0, 2)
        xp.matmul(cols.transpose(1, 0, 2), wm.transpose(0, 2, 1), out=out)


def _conv(
    op: str, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
    groups: Any, nsp: int,
) -> Tensor:  # fmt: skip
    """conv1d (``nsp=1``, run as a conv2d of height 1) and conv2d, as one graph node."""
    x0, w0, b0 = x, weight, bias  # the arguments, which the replay converts again
    x, weight = pair(op, floating(x), floating(weight))
    if bias is not None:
        weight, bias = pair(op, weight, floating(bias))
    _check(op, x, weight, bias, groups, nsp)
    groups = int(groups)
    kernel = tuple(weight.shape[2:])
    stride = int_tuple(op, "stride", stride, nsp, 1)
    dilation = int_tuple(op, "dilation", dilation, nsp, 1)
    pads = _padding(op, padding, nsp, kernel, dilation, stride)
    batched = x.ndim == nsp + 2
    X, Wt = _image4(x.data, batched, nsp), _image4(weight.data, True, nsp)  # noqa: N806
    if nsp == 1:  # (N, C, L) -> (N, C, 1, L): a conv2d of height 1
        stride, dilation, pads, kernel = (
            (1,) + stride,
            (1,) + dilation,
            ((0, 0),) + pads,
            (1,) + kernel,
        )
    (pt, pb), (pl, pr) = pads
    n, c, h, w = X.shape
    sizes = [
        (size + a + b - d * (k - 1) - 1) // s + 1
        for size, (a, b), d, k, s in zip((h, w), pads, dilation, kernel, stride)
    ]
    if min(sizes) <= 0:
        given = x.shape
        flat = tuple(p for pair_ in pads[2 - nsp :] for p in pair_)
        shown = lambda t: t[2 - nsp :]  # noqa: E731 - conv1d shows its own axis only
        raise ValueError(
            f"{op}: the input {given} is too small for kernel {shown(kernel)} with padding "
            f"{flat}, dilation {shown(dilation)} and stride {shown(stride)}: the output would be "
            f"{tuple(sizes)[2 - nsp :]}. Use a larger input, more padding or a smaller kernel."
        )
    ho, wo = sizes
    o = Wt.shape[0]
    g_, og, cg = groups, o // groups, c // groups
    kh, kw = kernel
    k_cols = kh * kw * cg
    m = n * ho * wo
    xp = backend.get_array_module(X)
    geometry = (n, h, w, c, ho, wo, kh, kw, stride, dilation, pads, groups)

    # weight (O, Cg, kh, kw) -> (G, Og, kh*kw*Cg), taps in the column order of cols; the bias
    # is one more column (cols has a column of ones), so the GEMMs add it and give its gradient
    has_bias = bias is not None
    wm = xp.empty((g_, og, k_cols + has_bias), X.dtype)
    _weight_matrix(wm, Wt, bias, kernel)
    one = c == 1  # one input channel: the columns transposed, (Kb, M), are faster to build
    workspace: dict[str, Any] = {}  # a replay's padded input, kept between replays
    state: list[Any] = []  # (see prepare)
    if one:
        lease = Lease(im2col_one_channel(xp, X[:, 0], geometry, has_bias))
    else:
        lease = Lease(im2col(xp, X.transpose(0, 2, 3, 1), geometry, has_bias))  # (M, G, Kb)
    cols = lease.array
    res = xp.empty((m, o), X.dtype)  # (M, O): channels last
    _product(xp, cols, wm, res, one)
    data = res.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)  # NCHW view of channels-last memory
    if nsp == 1:
        data = data[:, :, 0, :]
    if not batched:
        data = data[0]
    parents = (x, weight) if bias is None else (x, weight, bias)
    if not (is_grad_enabled() and weight.requires_grad):
        cols = lease = None  # only dW needs the columns: back to the pool now

    def replay() -> None:
        """The weight matrix, the columns (the backward's, or pooled ones it does not keep)
        and the product, rewritten in place from the current input and parameters."""
        prepare(state, res, x, x0, weight, w0, bias, b0)  # arrays converted from arguments
        X = _image4(x.data, batched, nsp)  # noqa: N806
        _weight_matrix(wm, _image4(weight.data, True, nsp), bias, kernel)
        shape = (k_cols + has_bias, m) if one else (m, g_, k_cols + has_bias)
        columns = take(xp, shape, X.dtype) if lease is None else lease.array
        if one:
            im2col_one_channel(xp, X[:, 0], geometry, has_bias, columns, workspace)
        else:
            im2col(xp, X.transpose(0, 2, 3, 1), geometry, has_bias, columns, workspace)
        _product(xp, columns, wm, res, one)
        if lease is None:
            give(columns)

    def backward(g: Any) -> tuple[Any, ...]:
        if not batched:
            g = g[None]
        if nsp == 1:
            g = g[:, :, None, :]
        g2 = g.transpose(0, 2, 3, 1).reshape(m, g_, og)  # free when g is channels last
        gx = gw = gb = None
        if weight.requires_grad:  # dW and db from one GEMM with the bias column
            cols = lease.array  # (the lease gives the buffer back once the graph is freed)
            if one:
                gwm = (cols @ g2[:, 0]).T[None]
            elif g_ == 1:
                gwm = (cols[:, 0].T @ g2[:, 0]).T[None]
            else:
                gwm = xp.matmul(g2.transpose(1, 2, 0), cols.transpose(1, 0, 2))
            gw = gwm[:, :, :k_cols].reshape(g_, og, kh, kw, cg).transpose(0, 1, 4, 2, 3)
            gw = gw.reshape(weight.shape)
            if has_bias and bias.requires_grad:
                gb = gwm[:, :, k_cols].reshape(o)
        elif has_bias and bias.requires_grad:
            gb = xp.ones(m, g.dtype) @ g2.reshape(m, o)
        if x.requires_grad and one:
            dcols = take(xp, (k_cols, m), X.dtype)
            xp.matmul(wm[0, :, :k_cols].T, g2[:, 0].T, out=dcols)
            gx = col2im_one_channel(xp, dcols, geometry, X.dtype)[:, None]
            give(dcols)
        elif x.requires_grad:
            dcols = take(xp, (m, g_, k_cols), X.dtype)
            if g_ == 1:
                xp.matmul(g2[:, 0], wm[0, :, :k_cols], out=dcols[:, 0])
            else:
                xp.matmul(g2.transpose(1, 0, 2), wm[:, :, :k_cols], out=dcols.transpose(1, 0, 2))
            gx = col2im(xp, dcols, geometry, X.dtype).transpose(0, 3, 1, 2)
            give(dcols)
        if gx is not None:
            if nsp == 1:
                gx = gx[:, :, 0, :]
            gx = gx.reshape(x.shape)
        return (gx, gw) if bias is None else (gx, gw, gb)

    return make_result(data, op, parents, backward, replay)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """``torch.nn.functional.conv2d``: x (N, C, H, W) or (C, H, W); weight (O, C/groups, kh, kw).

    ``padding`` is an int, a pair, ``"valid"`` (none) or ``"same"`` (output as large as the
    input; stride 1; an odd total pad puts the extra row/column at the bottom/right). The result
    is the NCHW view of channels-last memory, so a following conv2d reads it without a copy.
    """
    return _conv("conv2d", x, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """``torch.nn.functional.conv1d``: x (N, C, L) or (C, L); weight (O, C/groups, k).

    Runs as a conv2d of height 1 (same code, same checks, same speed notes).
    """
    return _conv("conv1d", x, weight, bias, stride, padding, dilation, groups, 1)
