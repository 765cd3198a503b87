"""numba loops of :mod:`.pipeline` (imported only when numba is present; see
:mod:`sinapsi._numba`): the rows of a group from each kept word's ids and reach, in the order
of the NumPy twins :func:`~.pipeline.skipgram_rows` and :func:`~.pipeline.cbow_rows` (integers:
the same arrays, bit for bit, tested)."""

from numba import njit

__all__ = ["cbow_rows", "skipgram_rows"]


@njit(cache=True, nogil=True)
def skipgram_rows(ids, left, right, centers, contexts):  # pragma: no cover - compiled
    """Word ``t``'s pairs with the words ``t - left[t] .. t + right[t]`` but ``t``, in order."""
    p = 0
    for t in range(ids.size):
        c = ids[t]
        for j in range(t - left[t], t):
            centers[p] = c
            contexts[p] = ids[j]
            p += 1
        for j in range(t + 1, t + right[t] + 1):
            centers[p] = c
            contexts[p] = ids[j]
            p += 1


@njit(cache=True, nogil=True)
def cbow_rows(ids, left, right, rows, width, contexts, mask):  # pragma: no cover - compiled
    """Row ``r`` of word ``t = rows[r]``: slot ``width - d`` holds offset ``-d``, slot
    ``width + d - 1`` offset ``+d``, for ``d`` up to its reach (``contexts``, ``mask``: zeros)."""
    for r in range(rows.size):
        t = rows[r]
        for d in range(1, left[t] + 1):
            contexts[r, width - d] = ids[t - d]
            mask[r, width - d] = True
        for d in range(1, right[t] + 1):
            contexts[r, width + d - 1] = ids[t + d]
            mask[r, width + d - 1] = True
