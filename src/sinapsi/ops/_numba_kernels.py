"""numba kernels of :mod:`sinapsi.ops` (imported only when numba is present; see
:mod:`sinapsi._numba`)."""

from numba import njit

__all__ = ["scatter_rows"]


@njit(cache=True, nogil=True)
def scatter_rows(rows, g, out):  # pragma: no cover - compiled
    """``out[rows[i]] += g[i]`` for each i in order, ``out`` zeroed first (2-D arrays): the
    same additions in the same order as ``np.add.at``, so the same sums bit for bit."""
    out[...] = 0
    for i in range(rows.size):
        r = rows[i]
        for j in range(g.shape[1]):
            out[r, j] += g[i, j]
