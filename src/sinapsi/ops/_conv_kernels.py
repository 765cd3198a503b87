"""numba kernels of conv2d: im2col and col2im in one pass each (imported only when numba is
present; see :mod:`sinapsi._numba`). They do what :mod:`sinapsi.ops._im2col` does with slice
copies, with the zero padding folded in, so neither a padded copy of the input nor one of its
gradient is made. Same layouts: input (N, H, W, C) of any strides, columns (M, G, Kb) with the
taps of each group in (row, column, channel) order and, when ``Kb`` exceeds kh*kw*Cg, a last
column of ones (the bias)."""

from numba import njit

__all__ = ["im2col", "col2im"]


def _im2col(x, cols, kh, kw, sh, sw, dh, dw, pt, pl, ho, wo):  # pragma: no cover - compiled
    """Fill ``cols`` (M, G, Kb) from ``x`` (N, H, W, C); padded taps read 0."""
    n, h, w, c = x.shape
    groups, kb = cols.shape[1], cols.shape[2]
    cg = c // groups
    k = kh * kw * cg
    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                m = (b * ho + oy) * wo + ox
                for g in range(groups):
                    row = cols[m, g]
                    for i in range(kh):
                        y = oy * sh + i * dh - pt
                        for j in range(kw):
                            xx = ox * sw + j * dw - pl
                            base = (i * kw + j) * cg
                            if 0 <= y < h and 0 <= xx < w:
                                for ch in range(cg):
                                    row[base + ch] = x[b, y, xx, g * cg + ch]
                            else:
                                for ch in range(cg):
                                    row[base + ch] = 0
                    for extra in range(k, kb):
                        row[extra] = 1


def _col2im(dcols, dx, kh, kw, sh, sw, dh, dw, pt, pl, ho, wo):  # pragma: no cover - compiled
    """``dx`` (N, H, W, C), zeroed here, gets the sum of each column's gradient over the taps
    that read it (padded taps are dropped). ``dcols`` (M, G, K) may have any strides."""
    n, h, w, c = dx.shape
    groups = dcols.shape[1]
    cg = c // groups
    for b in range(n):
        dx[b] = 0
        for oy in range(ho):
            for ox in range(wo):
                m = (b * ho + oy) * wo + ox
                for g in range(groups):
                    for i in range(kh):
                        y = oy * sh + i * dh - pt
                        if y < 0 or y >= h:
                            continue
                        for j in range(kw):
                            xx = ox * sw + j * dw - pl
                            if xx < 0 or xx >= w:
                                continue
                            base = (i * kw + j) * cg
                            for ch in range(cg):
                                dx[b, y, xx, g * cg + ch] += dcols[m, g, base + ch]


# Serial: measured on 2 cores, a parallel version (prange over the batch) was no faster, its
# threads start on every call and compete with BLAS's.
im2col = njit(cache=True, nogil=True)(_im2col)
col2im = njit(cache=True, nogil=True)(_col2im)
