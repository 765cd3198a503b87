"""The array backend: which array module does the math, the default dtype, and random generators.

This is the only module that imports NumPy (or CuPy) for array math. Every op asks for the module
of its operands with :func:`get_array_module`, so the same op code runs on NumPy arrays on the CPU
and on CuPy arrays on a GPU.

Examples
--------
>>> from sinapsi import backend
>>> backend.get_default_dtype()
dtype('float32')
>>> with backend.default_dtype("float64"):
...     backend.get_default_dtype()
dtype('float64')
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from collections.abc import Iterator
from typing import Any

import numpy

from ._errors import one_line

__all__ = [
    "numpy",
    "same_bits",
    "get_array_module",
    "array_module",
    "set_array_module",
    "get_default_dtype",
    "set_default_dtype",
    "default_dtype",
    "resolve_dtype",
    "is_floating",
    "new_rng",
    "to_numpy",
    "special",
    "sparse",
    "errstate",
]

_FLOAT_DTYPES = (numpy.dtype(numpy.float16), numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))
_default_dtype = numpy.dtype(numpy.float32)
_xp: Any = numpy  # the module new tensors are created with


def _loaded_cupy() -> Any:
    """CuPy if something already imported it, else None.

    CuPy is optional (only on machines with an NVIDIA GPU) and is never imported at start-up:
    its import is slow and may touch the GPU driver. A CuPy array can only exist once CuPy is
    imported, so looking in ``sys.modules`` is enough to recognize one.
    """
    cp = sys.modules.get("cupy")
    return cp if getattr(cp, "ndarray", None) is not None else None


def get_array_module(*arrays: Any) -> Any:
    """Return ``numpy`` or ``cupy``: the module that owns ``arrays`` (chainer's idea)."""
    cp = sys.modules.get("cupy")  # _loaded_cupy() inlined: this runs several times per op
    if cp is not None and getattr(cp, "ndarray", None) is not None:
        for a in arrays:
            if isinstance(a, cp.ndarray):
                return cp
    return numpy


def array_module() -> Any:
    """The module new tensors are created with (``numpy`` unless :func:`set_array_module` said)."""
    return _xp


def set_array_module(name: str) -> None:
    """Create new tensors with ``"numpy"`` (CPU) or ``"cupy"`` (NVIDIA GPU).

    Choosing ``"cupy"`` imports CuPy and checks that it sees a GPU (``cupy.cuda.is_available()``)
    now, so a machine without one fails here with a RuntimeError saying why, not with a raw
    ``CUDARuntimeError`` at the first tensor. On failure the array module is left unchanged.
    """
    global _xp
    if name == "numpy":
        _xp = numpy
    elif name == "cupy":
        _xp = _usable_cupy()
    else:
        raise ValueError(f"set_array_module: name must be 'numpy' or 'cupy'. Got {name!r} instead.")


def _usable_cupy() -> Any:
    """CuPy, imported, with a GPU it can use; else a one-line RuntimeError naming the cause."""
    where = "set_array_module('cupy')"
    try:
        cp = importlib.import_module("cupy")
    except Exception as e:  # ImportError, or a broken install (missing libcudart: OSError, ...)
        raise RuntimeError(
            f"{where}: CuPy cannot be imported ({one_line(e, ours=())}). Install the CuPy wheel "
            "that matches your CUDA version (e.g. pip install cupy-cuda12x), or use 'numpy' (CPU)."
        ) from e
    try:
        available = bool(cp.cuda.is_available())
        cause = "cupy.cuda.is_available() returned False"
    except Exception as e:  # CUDARuntimeError: no driver, driver too old, ...
        available, cause = False, one_line(e, ours=())
    if not available:
        raise RuntimeError(
            f"{where}: CuPy is installed but finds no usable NVIDIA GPU ({cause}). Check "
            "nvidia-smi and that the CUDA driver matches the cupy wheel, or use 'numpy' (CPU)."
        )
    return cp


def resolve_dtype(dtype: Any) -> numpy.dtype:
    """Turn ``"float32"``, ``numpy.float64``, a dtype or ``None`` (the default) into a dtype."""
    if dtype is None:
        return _default_dtype
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"Not a dtype: {dtype!r}. Use e.g. 'float32' or 'float64'.") from None


def is_floating(dtype: Any) -> bool:
    """True for float16/32/64: the dtypes that can carry gradients."""
    return numpy.dtype(dtype).kind == "f"


def get_default_dtype() -> numpy.dtype:
    """The dtype of new floating tensors and parameters (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` (float16, float32 or float64) the default for new floating tensors."""
    global _default_dtype
    d = resolve_dtype(dtype)
    if d not in _FLOAT_DTYPES:
        raise TypeError(f"The default dtype must be a floating dtype (float32, float64). Got {d}.")
    _default_dtype = d


@contextlib.contextmanager
def default_dtype(dtype: Any) -> Iterator[None]:
    """Use ``dtype`` as the default inside a ``with`` block (e.g. float64 for gradient checks)."""
    previous = _default_dtype
    set_default_dtype(dtype)
    try:
        yield
    finally:
        set_default_dtype(previous)


def new_rng(seed: int | numpy.random.Generator | None = None) -> numpy.random.Generator:
    """A seeded ``numpy.random.Generator``; a Generator passes through unchanged.

    Library code never touches NumPy's global random state: every random function takes ``rng=``.
    """
    if isinstance(seed, numpy.random.Generator):
        return seed
    if isinstance(seed, (bool, float, str, bytes)):  # default_rng would take True and 3.0
        raise TypeError(_seed_message(seed))
    try:
        return numpy.random.default_rng(seed)
    except TypeError:
        raise TypeError(_seed_message(seed)) from None
    except ValueError:  # a negative integer
        raise ValueError(_seed_message(seed)) from None


def _seed_message(seed: Any) -> str:
    return (
        "seed must be None, a non-negative integer or a numpy.random.Generator. "
        f"Received: seed={seed!r}"
    )


def to_numpy(array: Any) -> numpy.ndarray:
    """A NumPy copy of a NumPy or CuPy array (CuPy arrays are copied to the host)."""
    cp = _loaded_cupy()
    if cp is not None and isinstance(array, cp.ndarray):
        return cp.asnumpy(array)
    return numpy.asarray(array)


def same_bits(a: Any, b: Any) -> bool:
    """Whether two arrays (NumPy or CuPy) hold the same values in the same shape and dtype,
    NaN equal to NaN: what "bit-identical" means for a captured step and its tests."""
    a, b = to_numpy(a), to_numpy(b)
    return a.shape == b.shape and a.dtype == b.dtype and numpy.array_equal(a, b, equal_nan=True)


@functools.cache
def special(xp: Any) -> Any:
    """``scipy.special`` for NumPy arrays, ``cupyx.scipy.special`` for CuPy arrays (erf, expit)."""
    if xp is numpy:
        import scipy.special

        return scipy.special
    import cupyx.scipy.special  # pragma: no cover - GPU only

    return cupyx.scipy.special


@functools.cache
def sparse(xp: Any) -> Any:
    """``scipy.sparse`` for NumPy arrays, ``cupyx.scipy.sparse`` for CuPy arrays."""
    if xp is numpy:
        import scipy.sparse

        return scipy.sparse
    import cupyx.scipy.sparse  # pragma: no cover - GPU only

    return cupyx.scipy.sparse


def errstate(xp: Any, **kwargs: str) -> contextlib.AbstractContextManager[Any]:
    """``numpy.errstate`` for NumPy (e.g. ``divide="ignore"`` where -inf is the right answer);
    a no-op for CuPy, which does not warn."""
    return numpy.errstate(**kwargs) if xp is numpy else contextlib.nullcontext()
