"""numba kernels of :func:`~sinapsi.embeddings.negative_sampling.negative_sampling_loss_rows`
(imported only when numba is present; see :mod:`sinapsi._numba`).

word2vec's loss gathers ``K + 1`` rows of the output table per pair, dots them with the
pair's input vector, and in the backward scatters the gradients back to those rows. NumPy
does it in whole-array passes (a gathered ``(B, K + 1, D)`` copy, sparse products); these
loops touch each row once per use.

Three loops: :func:`row_scores` (the forward), :func:`row_mix` and :func:`row_scatter` (the
gradients of the input vectors and of the table); and for :mod:`.fused`'s step, done in the
tables, :func:`gathered_scores`, :func:`gathered_scatter_step` and :func:`rows_step`. Things
measured and left out, on head500 (2 cores):

* parallel loops. With ``prange`` (over pairs; for the scatter, each thread owning every other
  block of rows) whole epochs took 1.34-1.71 s against 1.34-1.41 serial, while keeping both
  cores busy (2.6-3.3 CPU-seconds an epoch): numba's OpenMP threads spin after each call and
  slow the main thread's NumPy work in between (OpenMP's passive wait: 1.57-1.71 s; numba's
  workqueue layer: 2.0-2.7 s). Halves run on two Python threads gained 15-30% on the
  gathers and lost on the scatter, where both threads scan every pair. A second training
  thread uses the other core better (``train_word2vec(workers=2)``: 1.5-1.7x);
* the loss and the gradients in one forward pass (the rows read once): slower, 1.8 ms against
  1.2 a batch, because the per-score ``exp``/``log1p`` calls are scalar there, where NumPy
  vectorizes them over the batch;
* sums in float64 for float32 arrays: 0.41 ms a batch against 0.29 (half the SIMD lanes);
* software prefetch of the rows two pairs ahead (``llvm.prefetch``): slower, 0.34 ms;
* both gradients in one loop (each row read once): no faster (0.80 against 0.77 ms a batch,
  best of 15), with the branches for a gradient not wanted inside the loop.

Serial, the scatter adds each row's gradients in pair order, as ``np.add.at`` does:
deterministic.

``fastmath`` is limited to reassociation and fused multiply-add (``reassoc``, ``contract``),
which the float32 dot products need to vectorize; NaN and inf are still handled as IEEE.
The sums are therefore not bit-identical to NumPy's (they add in another order); they agree
to rounding (tested).
"""

import numpy as np
from numba import njit

__all__ = [
    "gathered_scatter_step",
    "gathered_scores",
    "row_mix",
    "row_scatter",
    "row_scores",
    "rows_step",
]

_FLAGS = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def row_scores(table, h, ids, out):  # pragma: no cover - compiled
    """``out[b, k] = table[ids[b, k]] . h[b]``."""
    n, width = ids.shape
    dim = h.shape[1]
    zero = np.zeros(1, out.dtype)[0]  # sums in the arrays' precision: float32 SIMD lanes
    for b in range(n):
        for k in range(width):
            r = ids[b, k]
            s = zero
            for j in range(dim):
                s += table[r, j] * h[b, j]
            out[b, k] = s


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def gathered_scores(table, src, rows, ids, out):  # pragma: no cover - compiled
    """:func:`row_scores` with ``h[b] = src[rows[b]]`` read in place (no gathered copy)."""
    n, width = ids.shape
    dim = src.shape[1]
    zero = np.zeros(1, out.dtype)[0]
    for b in range(n):
        c = rows[b]
        for k in range(width):
            r = ids[b, k]
            s = zero
            for j in range(dim):
                s += table[r, j] * src[c, j]
            out[b, k] = s


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def row_mix(coef, ids, table, out):  # pragma: no cover - compiled
    """``out[b] = sum_k coef[b, k] * table[ids[b, k]]`` (the gradient of ``h``)."""
    n, width = ids.shape
    dim = table.shape[1]
    for b in range(n):
        for j in range(dim):
            out[b, j] = 0.0
        for k in range(width):
            r = ids[b, k]
            c = coef[b, k]
            for j in range(dim):
                out[b, j] += c * table[r, j]


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def row_scatter(coef, ids, h, out):  # pragma: no cover - compiled
    """``out[r] = sum over (b, k) with ids[b, k] == r of coef[b, k] * h[b]`` (the gradient
    of the table), added in order of ``b``, then ``k``, as ``np.add.at`` does."""
    n, width = ids.shape
    dim = h.shape[1]
    out[...] = 0.0
    for b in range(n):
        for k in range(width):
            r = ids[b, k]
            c = coef[b, k]
            for j in range(dim):
                out[r, j] += c * h[b, j]


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def gathered_scatter_step(coef, ids, src, rows, table, lr):  # pragma: no cover - compiled
    """``table[ids[b, k]] -= lr * coef[b, k] * src[rows[b]]``, in place, in order of ``b`` then
    ``k``: :func:`row_scatter` and an SGD step on those rows, without the gradient array, the
    input vectors read where they are (``src`` is not ``table``)."""
    n, width = ids.shape
    dim = src.shape[1]
    for b in range(n):
        q = rows[b]
        for k in range(width):
            r = ids[b, k]
            c = coef[b, k] * lr
            for j in range(dim):
                table[r, j] -= c * src[q, j]


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def rows_step(table, rows, grad, lr):  # pragma: no cover - compiled
    """``table[rows[b]] -= lr * grad[b]``, in place, in order of ``b`` (rows may repeat)."""
    dim = grad.shape[1]
    for b in range(rows.size):
        r = rows[b]
        for j in range(dim):
            table[r, j] -= lr * grad[b, j]
