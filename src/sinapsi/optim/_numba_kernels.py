"""The numba kernels behind :mod:`sinapsi.optim._numba` (imported only when numba is present).

Module-level functions so that numba sees ``prange`` as a global (a closure variable would
compile to a plain serial loop) and can cache the compiled code on disk.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True, parallel=True)
def adam(p, g, m, v, c1, b2, c2, bc2, eps, step_size):  # pragma: no cover - compiled
    """Adam on flat arrays, op for op as the NumPy path: ``m += (g - m) * c1``;
    ``v = v * b2 + (g * g) * c2``; ``p -= m / (sqrt(v) / bc2 + eps) * step_size``."""
    for i in prange(p.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] * b2 + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        p[i] = p[i] - (mi / (np.sqrt(vi) / bc2 + eps)) * step_size
