"""word2vec's malloc regimes (sinapsi.embeddings._malloc): where glibc serves large blocks."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from sinapsi.embeddings import _malloc


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost",
    )]  # fmt: skip


def _mapped_bytes() -> int:
    """Bytes glibc holds in mmap-ed blocks now (``mallinfo2().hblkhd``)."""
    libc = _malloc._glibc()
    if not libc or not hasattr(libc, "mallinfo2"):
        pytest.skip("not glibc >= 2.33")
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().hblkhd)


def test_mapped_regime_mmaps_large_blocks_and_kept_is_restored_after():
    size = 3 * _malloc.MAPPED // 2  # between MAPPED and KEPT
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


def test_release_freed_memory_runs_anywhere():
    _malloc.release_freed_memory()  # a no-op where malloc is not glibc's
