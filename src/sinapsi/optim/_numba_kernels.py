"""The numba kernels behind :mod:`sinapsi.optim._numba` (imported only when numba is present).

Module-level functions, so that numba can cache the compiled code on disk. Serial on purpose:
a ``parallel=True`` kernel ran Adam on both cores (0.26 ms per million floats vs 0.41 serial),
but its OpenMP threads kept spinning after each call and fought OpenBLAS's threads for the two
cores: the mnist training step went from 2.5 ms to 11 ms. ``error_model="numpy"`` gives
IEEE division (inf/nan, as NumPy) instead of Python's zero check, whose branch kept LLVM from
vectorizing the loop (3.5 ms per million floats).
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def adam(p, g, m, v, c1, b2, c2, bc2, eps, step_size):  # pragma: no cover - compiled
    """Adam on flat arrays, op for op as the NumPy path: ``m += (g - m) * c1``;
    ``v = v * b2 + (g * g) * c2``; ``p -= m / (sqrt(v) / bc2 + eps) * step_size``."""
    for i in range(p.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] * b2 + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        p[i] = p[i] - (mi / (np.sqrt(vi) / bc2 + eps)) * step_size


@njit(cache=True, nogil=True, error_model="numpy")
def sgd(p, g, lr):  # pragma: no cover - compiled
    """``p -= g * lr`` on flat arrays."""
    for i in range(p.size):
        p[i] = p[i] - g[i] * lr


@njit(cache=True, nogil=True, error_model="numpy")
def sgd_rows(p, rows, g, lr):  # pragma: no cover - compiled
    """``p[rows[i]] -= g[i] * lr`` for each i (``rows`` unique), on 2-D arrays."""
    for i in range(rows.size):
        r = rows[i]
        for j in range(p.shape[1]):
            p[r, j] = p[r, j] - g[i, j] * lr


@njit(cache=True, nogil=True, error_model="numpy")
def within(a, limit):  # pragma: no cover - compiled
    """Whether ``|x| <= limit`` for every element of the flat array ``a`` (NaN: no), in one
    branch-free pass (an and-reduction LLVM vectorizes)."""
    ok = True
    for i in range(a.size):
        ok &= abs(a[i]) <= limit
    return ok
