"""word2vec's skip-gram SGD step done in the tables: :func:`sparse_step` with
:class:`SparseSGD`'s update, without the copies.

:func:`~.sparse.sparse_step` copies the rows a batch uses into leaf tensors, back-propagates
the loss of :func:`~.negative_sampling.negative_sampling_loss_rows` to them and lets the
optimizer write them back: for 4096 pairs with 5 negatives, about 12k output rows and 4k input
rows, some 16 MB of copies and gradients a step (measured: a step of one worker raised the
peak memory by 20 MB on the benchmark's 5.5M-word corpus, where the two tables take 22 MB).
:func:`fused_sgd_step` computes the same quantities, in the same order, from the tables
themselves, with the compiled loops of :mod:`._numba_kernels`:

1. the scores of each pair's positive and negatives with the output table (the input vectors
   read in the table: no ``(B, D)`` copy), the loss, and ``coef = sigmoid(score) - label``
   (the gradient of the loss with respect to each score);
2. ``gh``: each pair's input-vector gradient, from the output rows *before* they change;
3. the output rows: ``context[r] -= lr * coef * h`` for each use of ``r``, in place (``h``
   read in the input table, which has not changed yet: its rows change last; with several
   training threads, another one may move a row between two reads, as in gensim's and
   word2vec.c's lock-free updates);
4. the input rows: ``center[c] -= lr * gh`` for each use of ``c``, in place.

This is the arithmetic of ``sparse_step`` followed by ``SparseSGD.update`` on both tables (the
gradients of a batch are computed from the vectors before it, a row's steps are summed), to
rounding: a row's steps are subtracted one by one instead of summed first (tested against
``sparse_step``). Only skip-gram with SGD, each pair its own negatives, and float arrays the
kernels take; otherwise :func:`fused_sgd_step` returns None and the caller takes
``sparse_step``.

A training worker passes its own :class:`StepBuffers`: the step's arrays (ids, scores,
coefficients, ``gh``: ~1 MB for 2048 pairs) are then the same memory from batch to batch,
instead of fresh blocks that the allocator keeps around in between. With the ``(B, D)`` copy
gone, two workers hold ~3 MB less at the peak on the benchmark's 5.5M-word corpus.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _numba
from ..backend import special
from .negative_sampling import _KERNELS, table_rows

__all__ = ["StepBuffers", "fused_sgd_step"]


class StepBuffers:
    """One worker's arrays for :func:`fused_sgd_step`, reused from step to step: each grows to
    the largest batch seen and smaller batches take a view of its front."""

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}

    def take(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """An uninitialized C-contiguous array of ``shape`` and ``dtype``, named ``name``."""
        size, dtype = int(np.prod(shape)), np.dtype(dtype)
        flat = self._flat.get(name)
        if flat is None or flat.dtype != dtype or flat.size < size:
            flat = self._flat[name] = np.empty(size, dtype)
        return flat[:size].reshape(shape)


def fused_sgd_step(
    center: np.ndarray, context: np.ndarray, centers: Any, contexts: Any, negatives: Any,
    lr: float, buffers: StepBuffers | None = None,
) -> float | None:  # fmt: skip
    """One skip-gram SGD step on ``center`` (input vectors) and ``context`` (output vectors), in
    place; returns the batch's summed loss, or None (nothing done) where the compiled loops
    do not apply: no numba, kernels off, or arrays they do not take. ``buffers``: the step's
    arrays, reused (None: fresh ones)."""
    kernels = _numba.kernels(_KERNELS)
    if kernels is None:
        return None
    centers, contexts = np.asarray(centers), np.asarray(contexts)
    negatives = np.asarray(negatives)
    floats = center.dtype.kind == "f" and context.dtype.kind == "f"
    if centers.size == 0 or not floats:
        return None
    buffers = StepBuffers() if buffers is None else buffers
    ids = _row_ids(contexts, negatives, len(context), buffers)
    rows = _input_rows(centers, len(center))
    if not _numba.applies(center, context, ids, rows):
        return None
    scores = buffers.take("scores", ids.shape, context.dtype)
    kernels.gathered_scores(context, center, rows, ids, scores)
    loss = _row_loss(scores, buffers)
    coef = buffers.take("coef", ids.shape, context.dtype)
    special(np).expit(scores, out=coef)
    coef[:, 0] -= 1.0  # the positive's label
    gh = buffers.take("gh", (rows.size, center.shape[1]), center.dtype)
    kernels.row_mix(coef, ids, context, gh)
    step = context.dtype.type(lr)
    kernels.gathered_scatter_step(coef, ids, center, rows, context, step)
    kernels.rows_step(center, rows, gh, step)
    return loss


def _row_ids(pos: np.ndarray, neg: np.ndarray, n_rows: int, buffers: StepBuffers) -> np.ndarray:
    """The ``(B, K + 1)`` output rows of the scores, column 0 the positive's, in ``[0, n_rows)``
    (negative ids count from the end; others raise IndexError), as
    :func:`~.negative_sampling._row_numbers` makes them, written into ``buffers``."""
    if pos.dtype.kind not in "iu" or neg.dtype.kind not in "iu":
        raise TypeError(
            f"negative_sampling_loss_rows: ids must be integers, got {pos.dtype} and {neg.dtype}"
        )
    if pos.ndim != 1 or neg.ndim != 2 or len(neg) != len(pos):
        raise ValueError(
            f"fused_sgd_step: contexts must be (B,) and negatives (B, K); got "
            f"{tuple(pos.shape)} and {tuple(neg.shape)}"
        )
    low = min(int(pos.min()), int(neg.min(initial=0)))
    high = max(int(pos.max()), int(neg.max(initial=0)))
    if low < -n_rows or high >= n_rows:
        raise IndexError(
            f"negative_sampling_loss_rows: ids must be in [-{n_rows}, {n_rows}) for a table "
            f"of {n_rows} rows; got ids from {low} to {high}"
        )
    dtype = np.int32 if n_rows < 2**31 else np.int64
    ids = buffers.take("ids", (len(pos), neg.shape[1] + 1), dtype)
    ids[:, 0] = pos
    ids[:, 1:] = neg
    if low < 0:
        np.add(ids, n_rows, out=ids, where=ids < 0)
    return ids


def _input_rows(centers: np.ndarray, n_rows: int) -> np.ndarray:
    """The input rows as the kernels take them: integers in ``[0, n_rows)``, C-contiguous
    (negative ids count from the end, as ``np.take``'s; others raise IndexError as it does)."""
    if centers.ndim != 1:
        raise TypeError(f"fused_sgd_step: centers must be a 1-D integer array, got {centers.shape}")
    return np.ascontiguousarray(table_rows(np, "fused_sgd_step", "centers", centers, n_rows))


def _row_loss(scores: np.ndarray, buffers: StepBuffers) -> float:
    """:func:`~.negative_sampling._row_loss` of ``scores`` (the same operations, so the same
    sum), in two of ``buffers``' arrays."""
    signed = buffers.take("signed", scores.shape, scores.dtype)
    work = buffers.take("work", scores.shape, scores.dtype)
    np.copyto(signed, scores)
    signed[:, 0] *= -1
    total = np.maximum(signed, 0, out=work).sum()
    np.abs(signed, out=work)
    np.negative(work, out=work)
    np.exp(work, out=work)
    np.log1p(work, out=work)
    return float(total + work.sum())
