"""The switch for sinapsi's optional numba kernels, and their loader.

A few hot loops run as compiled `numba <https://numba.pydata.org>`_ kernels when numba is
installed (``pip install sinapsi[fast]``): Adam's and sparse SGD's updates
(:mod:`sinapsi.optim._numba`) and word2vec's negative-sampling loss
(:mod:`sinapsi.embeddings.negative_sampling`). Each has a NumPy path that runs without numba,
on CuPy arrays, or with the kernels switched off: ``SINAPSI_NUMBA=0`` in the environment, or
:func:`set_enabled(False)`. The kernel modules are imported (and numba with them) only on
first use; compiled code is cached on disk (numba's ``cache=True``), so only the first run
on a machine pays the compile time.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import warnings
from collections.abc import Iterator
from typing import Any

from . import backend

__all__ = ["applies", "available", "enabled", "kernels", "set_enabled", "use_kernels"]

_OFF = ("0", "false", "no", "off", "")
_ON = ("1", "true", "yes", "on")


def _from_environment() -> bool:
    """``SINAPSI_NUMBA``: 1/true/yes/on (the default) or 0/false/no/off; anything else warns
    and keeps the kernels on, rather than silently meaning one or the other."""
    value = os.environ.get("SINAPSI_NUMBA", "1").strip().lower()
    if value not in _OFF + _ON:
        warnings.warn(
            f"SINAPSI_NUMBA={value!r} is not understood; the numba kernels stay on. Use "
            "SINAPSI_NUMBA=0 (or off) to turn them off, 1 (or on) to keep them.",
            stacklevel=2,
        )
    return value not in _OFF


_enabled = _from_environment()
_ndarray = backend.numpy.ndarray
_numba_found: bool | None = None
_modules: dict[str, Any] = {}  # kernel module name -> the module, or None without numba


def set_enabled(flag: bool) -> None:
    """Use the numba kernels when available (True, the default) or always NumPy (False)."""
    global _enabled
    _enabled = bool(flag)


@contextlib.contextmanager
def use_kernels(flag: bool) -> Iterator[None]:
    """Inside the block, the kernels are on (True) or off (False); the previous setting comes
    back after it (tests and benchmarks that compare the two paths)."""
    previous = _enabled
    set_enabled(flag)
    try:
        yield
    finally:
        set_enabled(previous)


def enabled() -> bool:
    """Whether the kernels run: enabled and numba importable."""
    return _enabled and available()


def available() -> bool:
    """Whether numba imports (tried once; the kernels are compiled on first use)."""
    global _numba_found
    if _numba_found is None:
        try:
            import numba  # noqa: F401
        except ImportError:
            _numba_found = False
        except Exception as e:  # a broken install (e.g. llvmlite's OSError): NumPy, and say so
            _numba_found = False
            _warn_broken("numba", e)
        else:
            _numba_found = True
    return _numba_found


def _warn_broken(what: str, error: BaseException) -> None:
    warnings.warn(
        f"sinapsi: {what} is installed but fails to import ({type(error).__name__}: {error}); "
        "running on NumPy alone. Reinstall it (pip install --force-reinstall numba), or set "
        "SINAPSI_NUMBA=0 to silence this.",
        RuntimeWarning,
        stacklevel=3,
    )


def kernels(module: str) -> Any:
    """The kernel module ``module`` (a full name, such as ``"sinapsi.optim._numba_kernels"``),
    imported on first use; None when the kernels are switched off or numba is missing."""
    if not _enabled:
        return None
    if module not in _modules:
        try:
            _modules[module] = importlib.import_module(module)
        except ImportError:
            _modules[module] = None
        except Exception as e:  # numba present but broken, or a kernel failing to compile
            _modules[module] = None
            _warn_broken(module, e)
    return _modules[module]


def applies(*arrays: Any) -> bool:
    """Whether a kernel can take these arrays: NumPy (not CuPy), float32 or float64 for the
    float ones, one float dtype among them, and C-contiguous (integer arrays too)."""
    dtype = None
    for a in arrays:
        if type(a) is not _ndarray or not a.flags.c_contiguous:  # CuPy, subclasses: no
            return False
        kind = a.dtype.kind
        if kind == "f":
            if a.dtype.itemsize not in (4, 8) or (dtype is not None and a.dtype != dtype):
                return False
            dtype = a.dtype
        elif kind not in "iu":
            return False
    return True
