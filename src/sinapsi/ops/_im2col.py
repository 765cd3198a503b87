"""im2col and col2im for conv2d, channels last (NHWC), from kh*kw strided slice copies.

``geometry`` is ``(n, h, w, c, ho, wo, kh, kw, stride, dilation, pads, groups)``. The column
matrix is ``(N*Ho*Wo, G, kh*kw*Cg)``: for each output pixel and group, the kernel taps in
(row, column, channel) order, the order of the weight reshaped by conv2d.
"""

from __future__ import annotations

from typing import Any


def pad_nhwc(xp: Any, xt: Any, pads: tuple[tuple[int, int], ...]) -> Any:
    """``xt`` (N, H, W, C, any strides) zero-padded on H and W; itself when there is no pad."""
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return xt
    n, h, w, c = xt.shape
    out = xp.empty((n, h + pt + pb, w + pl + pr, c), xt.dtype)
    out[:, :pt] = 0  # only the border is zeroed: the inside is written once
    out[:, pt + h :] = 0
    out[:, pt : pt + h, :pl] = 0
    out[:, pt : pt + h, pl + w :] = 0
    out[:, pt : pt + h, pl : pl + w] = xt
    return out


def _window(i: int, j: int, geometry: tuple) -> tuple[slice, slice]:
    """The rows and columns of the padded input that tap (i, j) reads for every output pixel."""
    _, _, _, _, ho, wo, _, _, (sh, sw), (dh, dw), _, _ = geometry
    return (
        slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
        slice(j * dw, j * dw + sw * (wo - 1) + 1, sw),
    )


def im2col(xp: Any, xpad: Any, geometry: tuple) -> Any:
    """The (N*Ho*Wo, G, kh*kw*Cg) column matrix of the padded NHWC input ``xpad``."""
    n, _, _, c, ho, wo, kh, kw, _, _, _, groups = geometry
    cg = c // groups
    cols = xp.empty((n, ho, wo, groups, kh, kw, cg), xpad.dtype)
    src = xpad.reshape(xpad.shape[:3] + (groups, cg))
    for i in range(kh):
        for j in range(kw):
            rows, columns = _window(i, j, geometry)
            cols[:, :, :, :, i, j, :] = src[:, rows, columns]
    return cols.reshape(n * ho * wo, groups, kh * kw * cg)


def col2im(xp: Any, dcols: Any, geometry: tuple, dtype: Any) -> Any:
    """The gradient of the unpadded NHWC input from the columns' gradient (M, G, K): the
    slice-adds that undo :func:`im2col`. Returns an (N, H, W, C) view."""
    n, h, w, c, ho, wo, kh, kw, _, _, ((pt, pb), (pl, pr)), groups = geometry
    cg = c // groups
    d7 = dcols.reshape(n, ho, wo, groups, kh, kw, cg)
    out = xp.zeros((n, h + pt + pb, w + pl + pr, groups, cg), dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _window(i, j, geometry)
            out[:, rows, columns] += d7[:, :, :, :, i, j, :]
    return out.reshape(n, h + pt + pb, w + pl + pr, c)[:, pt : pt + h, pl : pl + w]
