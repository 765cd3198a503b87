"""Optional numba kernels for optimizer updates: one pass over memory instead of a dozen.

NumPy runs Adam as a dozen whole-array passes on one core (each ``out=`` ufunc reads and
writes every element); for a large parameter the update then costs a fifth of a training
step. With numba installed (``pip install sinapsi[fast]``), Adam updates float32/float64
NumPy parameters with one fused loop instead: 0.41 ms per million floats against 2.3 ms, and
faster at every size down to 64 elements (one core: threads fought OpenBLAS's, see
``_numba_kernels``). The sparse row update of word2vec's SGD is one loop too. The loops do
the same IEEE operations in the same order and precision as the NumPy paths, so the results
are bit-identical (tested). The switch (``SINAPSI_NUMBA=0``, :func:`set_enabled`) is
:mod:`sinapsi._numba`'s, re-exported here.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from .._numba import applies, available, enabled, kernels, set_enabled, use_kernels

__all__ = [
    "adam_update", "all_within", "available", "enabled", "set_enabled", "sgd_rows_update",
    "use_kernels",
]  # fmt: skip

_KERNELS = "sinapsi.optim._numba_kernels"
_ndarray = backend.numpy.ndarray


def adam_update(
    param: Any, grad: Any, m: Any, v: Any, beta1: float, beta2: float, lr: float, eps: float,
    step: int,
) -> bool:  # fmt: skip
    """Adam's update of ``param`` (and its moments ``m``, ``v``) in place, as one kernel.

    Returns False, changing nothing, where the kernel does not apply (disabled, numba
    missing, a non-contiguous array, mixed dtypes, CuPy): the caller then runs NumPy.
    """
    k = kernels(_KERNELS)
    dtype = param.dtype
    if k is None or dtype.kind != "f" or dtype.itemsize not in (4, 8):
        return False
    if grad.dtype != dtype or m.dtype != dtype or v.dtype != dtype:
        return False
    arrays = (param, grad, m, v)
    for a in arrays:  # applies(), inlined: this runs once per parameter per step
        if type(a) is not _ndarray or not a.flags.c_contiguous:
            return False
    cast = param.dtype.type
    k.adam(
        *(a.reshape(-1) for a in arrays),
        cast(1.0 - beta1), cast(beta2), cast(1.0 - beta2), cast(math.sqrt(1.0 - beta2**step)),
        cast(eps), cast(lr / (1.0 - beta1**step)),
    )  # fmt: skip
    return True


def all_within(a: Any, limit: float) -> bool | None:
    """Whether every element of the flat (1-D, contiguous) float array ``a`` has
    ``|x| <= limit`` (False where one is NaN), as one loop: the flat optimizer step's
    gradient check (:mod:`sinapsi.optim.flat`). None where the kernel does not apply: the
    caller then asks NumPy (the same comparisons, so the same answer)."""
    k = kernels(_KERNELS)
    if k is None or type(a) is not _ndarray or a.ndim != 1 or not a.flags.c_contiguous:
        return None
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        return None
    return bool(k.within(a, float(limit)))


def sgd_rows_update(param: Any, rows: Any, grad: Any, lr: float) -> bool:
    """``param[rows] -= grad * lr`` in place (``rows`` unique ints, or None for all rows), as
    one loop: the same operations as NumPy's ``grad * lr`` then subtraction, in ``param``'s
    dtype, without the temporary and the gather/scatter. False where it does not apply."""
    k = kernels(_KERNELS)
    if k is None or param.dtype.kind != "f" or param.ndim < 1:
        return False
    if grad.shape[1:] != param.shape[1:]:
        return False
    if rows is None:
        if grad.shape != param.shape or not applies(param, grad):
            return False
    elif not isinstance(rows, _ndarray) or rows.ndim != 1 or len(rows) != len(grad):
        return False
    elif not applies(param, rows, grad) or rows.dtype.kind not in "iu":
        return False
    elif len(rows) and (rows.min() < 0 or rows.max() >= len(param)):
        return False  # the loop does not check bounds: NumPy's indexing raises (or wraps)
    width = math.prod(param.shape[1:])
    p2, g2 = param.reshape(len(param), width), grad.reshape(len(grad), width)
    if rows is None:
        k.sgd(p2.reshape(-1), g2.reshape(-1), param.dtype.type(lr))
    else:
        k.sgd_rows(p2, rows, g2, param.dtype.type(lr))
    return True
