"""word2vec's malloc regimes (sinapsi.embeddings._malloc): where glibc serves large blocks."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest

from sinapsi.embeddings import _malloc


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost",
    )]  # fmt: skip


def _info() -> _MallInfo2:
    libc = _malloc._glibc()
    if not libc or not hasattr(libc, "mallinfo2"):
        pytest.skip("not glibc >= 2.33")
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2()


def _mapped_bytes() -> int:
    """Bytes glibc holds in mmap-ed blocks now (``mallinfo2().hblkhd``)."""
    return int(_info().hblkhd)


def _check_regimes() -> None:
    """Run in a fresh process (a heap of its own: glibc serves a large block from a free chunk
    of the heap before it considers mmap, and a test run's heap has large free chunks)."""
    # between MAPPED and KEPT, and more than the heap's free chunks hold
    size = max(2 * _malloc.MAPPED, int(_info().fordblks) + _malloc.MAPPED)
    assert size < _malloc.KEPT
    with _malloc.malloc_regime(_malloc.MAPPED):
        before = _mapped_bytes()
        inside = np.ones(size, np.uint8)
        assert _mapped_bytes() - before >= size  # mmap-ed: given back when freed
        del inside
        assert _mapped_bytes() == before
    before = _mapped_bytes()
    after = np.ones(size, np.uint8)  # KEPT again: from the heap, kept for reuse when freed
    assert _mapped_bytes() == before
    del after


def test_mapped_regime_mmaps_large_blocks_and_kept_is_restored_after():
    _mapped_bytes()  # skips where mallinfo2 is missing
    code = "import test_malloc_regime as t; t._check_regimes()"
    here = os.path.dirname(os.path.abspath(__file__))
    run = subprocess.run([sys.executable, "-c", code], cwd=here, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_release_freed_memory_runs_anywhere():
    _malloc.release_freed_memory()  # a no-op where malloc is not glibc's
