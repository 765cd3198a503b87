"""word2vec's skip-gram SGD step done in the tables: :func:`sparse_step` with
:class:`SparseSGD`'s update, without the copies.

:func:`~.sparse.sparse_step` copies the rows a batch uses into leaf tensors, back-propagates
the loss of :func:`~.negative_sampling.negative_sampling_loss_rows` to them and lets the
optimizer write them back: for 4096 pairs with 5 negatives, about 12k output rows and 4k input
rows, some 16 MB of copies and gradients a step (measured: a step of one worker raised the
peak memory by 20 MB on the benchmark's 5.5M-word corpus, where the two tables take 22 MB).
:func:`fused_sgd_step` computes the same quantities, in the same order, from the tables
themselves, with the compiled loops of :mod:`._numba_kernels`:

1. ``h``: the batch's input vectors (a copy, ``(B, D)``: the vectors before the step);
2. the scores of each pair's positive and negatives with the output table, the loss, and
   ``coef = sigmoid(score) - label`` (the gradient of the loss with respect to each score);
3. ``gh``: each pair's input-vector gradient, from the output rows *before* they change;
4. the output rows: ``context[r] -= lr * coef * h`` for each use of ``r``, in place;
5. the input rows: ``center[c] -= lr * gh`` for each use of ``c``, in place.

This is the arithmetic of ``sparse_step`` followed by ``SparseSGD.update`` on both tables (the
gradients of a batch are computed from the vectors before it, a row's steps are summed), to
rounding: a row's steps are subtracted one by one instead of summed first (tested against
``sparse_step``). Only skip-gram with SGD, each pair its own negatives, and float arrays the
kernels take; otherwise :func:`fused_sgd_step` returns None and the caller takes
``sparse_step``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _numba
from .negative_sampling import _KERNELS, _row_coefs, _row_loss, _row_numbers

__all__ = ["fused_sgd_step"]


def fused_sgd_step(
    center: np.ndarray, context: np.ndarray, centers: Any, contexts: Any, negatives: Any,
    lr: float,
) -> float | None:  # fmt: skip
    """One skip-gram SGD step on ``center`` (input vectors) and ``context`` (output vectors), in
    place; returns the batch's summed loss, or None (nothing done) where the compiled loops
    do not apply: no numba, kernels off, or arrays they do not take."""
    kernels = _numba.kernels(_KERNELS)
    if kernels is None:
        return None
    centers = np.asarray(centers)
    ids = _row_numbers(np, np.asarray(contexts), np.asarray(negatives), len(context))
    floats = center.dtype.kind == "f" and context.dtype.kind == "f"
    if ids.size == 0 or not floats or not _numba.applies(center, context, ids):
        return None
    h = np.take(center, centers, axis=0)
    scores = np.empty(ids.shape, dtype=context.dtype)
    kernels.row_scores(context, h, ids, scores)
    loss = float(_row_loss(np, scores))
    coef = _row_coefs(np, scores)
    gh = np.empty_like(h)
    kernels.row_mix(coef, ids, context, gh)
    step = context.dtype.type(lr)
    kernels.row_scatter_step(coef, ids, h, context, step)
    kernels.rows_step(center, centers, gh, step)
    return loss
