"""How glibc's malloc serves word2vec's arrays while it trains (no-ops where malloc is not
glibc's: the calls are looked up with ctypes and skipped when missing).

glibc serves a block of at least its *mmap threshold* with a fresh ``mmap`` (given back to the
system when freed) and smaller ones from its heaps, which keep freed memory for reuse and give
back only the free top of a heap past the *trim threshold*. By default the threshold starts at
128 KB and rises by itself to the largest mmap-ed block freed, up to 32 MB (mallopt(3),
"dynamic mmap threshold"). Two regimes suit word2vec:

* :data:`KEPT` (32 MB, trim past 64 MB): for the steps that allocate their arrays afresh (the
  autograd path: some 10-30 MB a step), so that they come from the heap instead of being
  faulted in again every batch (measured: a million page faults and half the time in the
  kernel for one epoch at batch 8192);
* :data:`MAPPED` (256 KB, trim past 512 KB): for the pass over the corpus and the fused
  skip-gram step (:mod:`.fused`), whose per-step arrays are reused: the pipeline's groups
  (100k pairs, ~400 KB an array) are then mmap-ed and given back once trained, instead of
  leaving holes in the heap that its later, differently sized blocks did not fit. Measured
  with two workers on the benchmark's 5.5M-word corpus (1 epoch): the peak 52-55 MB above the
  baseline with :data:`KEPT`, 46-48 MB with :data:`MAPPED`.

:func:`malloc_regime` sets one for a block of code and leaves :data:`KEPT` after it. Setting
either threshold with ``mallopt`` turns glibc's dynamic adjustment off for the rest of the
process; it cannot be turned on again, so :data:`KEPT` is set explicitly instead (the values the
adjustment reaches after a training's first large step).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["KEPT", "MAPPED", "malloc_regime", "release_freed_memory"]

KEPT = 32 << 20  # mmap threshold for steps that allocate afresh (the trim threshold twice it)
MAPPED = 256 << 10  # ...for the pass over the corpus and the fused step
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_libc: Any = None


def _glibc() -> Any:
    """The C library when it has glibc's ``mallopt`` and ``malloc_trim``, else False."""
    global _libc
    if _libc is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            _libc = libc if (libc.mallopt and libc.malloc_trim) else False
        except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
            _libc = False
    return _libc


def _set(threshold: int) -> None:
    libc = _glibc()
    if libc:
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * threshold)


@contextlib.contextmanager
def malloc_regime(threshold: int) -> Iterator[None]:
    """Inside the block, blocks of ``threshold`` bytes or more are mmap-ed and the heap's free
    top past twice that is given back; after it, :data:`KEPT`."""
    _set(threshold)
    try:
        yield
    finally:
        _set(KEPT)


def release_freed_memory() -> None:
    """Give the memory freed so far back to the system (glibc's ``malloc_trim``, ~0.1 ms)."""
    libc = _glibc()
    if libc:
        libc.malloc_trim(0)
