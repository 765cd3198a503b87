"""Sparse updates for word2vec: a training step that touches only the rows a batch uses.

:func:`sparse_step` gathers the unique rows of a batch into small leaf tensors (or, when a
batch uses most of a table, takes the table itself as the leaf), runs the loss through
autograd on them -- :func:`~.negative_sampling.negative_sampling_loss_rows`, the one node that
also does the output-vector lookups -- and a sparse optimizer (:class:`SparseSGD`,
:class:`SparseAdagrad`, :class:`SparseAdam`) updates only those rows. One step of
:class:`SparseSGD` equals a dense SGD step on the same batch (tested).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_array_module
from ..optim import _numba
from ..optim.adagrad import adagrad_step
from ..optim.adam import adam_step
from ..optim.sgd import sgd_step
from ..tensor import Tensor
from .fused import StepBuffers, fused_sgd_step
from .models import CBOW, SkipGram
from .negative_sampling import (
    _lookup,
    _masked_mean,
    negative_sampling_loss_rows,
    shared_negative_sampling_loss_rows,
)

__all__ = ["SparseAdagrad", "SparseAdam", "SparseSGD", "sparse_step"]


class _SparseOptimizer:
    """Updates only given rows of 2-D parameters; state (if any) is kept per full table.

    ``update(param, rows, grad, values=None)``: ``rows`` unique, ``grad`` their gradient;
    ``values``, when the caller has them, are the current ``param.data[rows]`` (a copy):
    the new rows are then computed from them and written with one scatter, instead of a
    gather, a subtraction and a scatter (about 1.5x faster).
    """

    # whether a row with a zero gradient is left exactly as it is (then sparse_step may pass
    # all rows at once); not so for lazy Adam, whose moments would move every row
    zero_grad_keeps_row = True

    def __init__(self, params: Any, lr: float) -> None:
        self.params = list(params)
        self.lr = float(lr)
        self.state: dict[int, dict[str, np.ndarray]] = {}

    def begin_step(self) -> None:
        """Called once per batch, before the ``update`` calls of that batch."""

    def update(self, param: Tensor, rows: np.ndarray, grad: np.ndarray, values: Any = None) -> None:
        raise NotImplementedError

    @staticmethod
    def _apply(param: Tensor, rows: np.ndarray, step: np.ndarray, values: Any) -> None:
        """``param.data[rows] -= step``; ``step`` is the optimizer's own array (reused)."""
        if values is None:
            param.data[rows] -= step
        else:
            xp = get_array_module(step)
            param.data[rows] = xp.subtract(values, step, out=step)


class SparseSGD(_SparseOptimizer):
    """``w[rows] -= lr * grad`` (rows unique): :func:`~sinapsi.optim.sgd.sgd_step`, the dense
    SGD's math, on those rows."""

    def update(self, param: Tensor, rows: np.ndarray, grad: np.ndarray, values: Any = None) -> None:
        whole = isinstance(rows, slice)
        if (not whole or rows == slice(None)) and _numba.sgd_rows_update(
            param.data, None if whole else rows, grad, self.lr
        ):
            return  # the same arithmetic in one loop (optional numba)
        step = sgd_step(grad, self.lr).astype(param.data.dtype, copy=False)
        self._apply(param, rows, step, values)


class SparseAdagrad(_SparseOptimizer):
    """Adagrad on the touched rows: ``G[rows] += g**2; w[rows] -= lr * g / (sqrt(G) + eps)``,
    with :func:`~sinapsi.optim.adagrad.adagrad_step`, the dense Adagrad's math."""

    def __init__(self, params: Any, lr: float, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = eps

    def update(self, param: Tensor, rows: np.ndarray, grad: np.ndarray, values: Any = None) -> None:
        st = self.state.setdefault(id(param), {"sum": np.zeros_like(param.data)})
        total = st["sum"][rows]  # the rows' sums: a copy (a view for slice(None))
        step = adagrad_step(grad, total, self.lr, self.eps)
        if not isinstance(rows, slice):
            st["sum"][rows] = total
        self._apply(param, rows, step, values)


class SparseAdam(_SparseOptimizer):
    """Lazy Adam (as ``torch.optim.SparseAdam``): moments of the touched rows only, global step;
    the update is :func:`~sinapsi.optim.adam.adam_step`, the dense Adam's math."""

    zero_grad_keeps_row = False

    def __init__(
        self, params: Any, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        super().__init__(params, lr)
        self.betas, self.eps, self.t = betas, eps, 0

    def begin_step(self) -> None:
        self.t += 1

    def update(self, param: Tensor, rows: np.ndarray, grad: np.ndarray, values: Any = None) -> None:
        b1, b2 = self.betas
        st = self.state.setdefault(
            id(param), {"m": np.zeros_like(param.data), "v": np.zeros_like(param.data)}
        )
        m, v = st["m"][rows], st["v"][rows]  # copies (views for slice(None))
        step = adam_step(grad, m, v, lr=self.lr, beta1=b1, beta2=b2, eps=self.eps, step=self.t)
        if not isinstance(rows, slice):
            st["m"][rows], st["v"][rows] = m, v
        self._apply(param, rows, step, values)


def _unique_inverse(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True)`` for ids in ``[0, n)``; the inverse is int32 and
    shaped as ``ids``.

    When the table is not much larger than the batch, the ids are marked in a length-``n``
    table instead of sorted: O(len(ids) + n) against ``np.unique``'s argsort, about 20x faster
    for a batch of 6k ids in an 8k-word vocabulary. Same result either way.
    """
    flat = ids.reshape(-1)
    if n > 16 * flat.size:
        uniq, inverse = np.unique(flat, return_inverse=True)
        return uniq, inverse.reshape(ids.shape).astype(np.int32)
    seen = np.zeros(n, dtype=bool)
    seen[flat] = True
    uniq = np.flatnonzero(seen)
    position = np.empty(n, dtype=np.int32)  # int32: what scipy's sparse indices use
    position[uniq] = np.arange(uniq.size, dtype=np.int32)
    return uniq, position[flat].reshape(ids.shape)


def _rows(table: Tensor, ids: np.ndarray, whole: bool = True) -> tuple[Any, Tensor, Any, Any]:
    """The rows ``ids`` use: ``(rows, leaf, positions, values)``.

    Usually ``rows`` are the unique ids, ``leaf`` a tensor of a copy of those rows, ``positions``
    each id's row in the leaf, and ``values`` the copy (for the optimizer). When the ids touch
    more than half of the table, copying rows out and scattering them back costs more than
    working on the whole table (measured: 10% faster on an 8k-word vocabulary at batch 4096):
    then, if ``whole``, ``rows`` is ``slice(None)``, ``leaf`` wraps the table's own array (no
    copy), ``positions`` are the ids and ``values`` None.
    """
    n = len(table.data)
    uniq, inverse = _unique_inverse(ids, n)
    if whole and 2 * uniq.size > n:
        leaf = Tensor(table.data, requires_grad=True, dtype=table.data.dtype)
        return slice(None), leaf, ids.astype(np.int32), None
    rows = get_array_module(table.data).take(table.data, uniq, axis=0)
    leaf = Tensor(rows, requires_grad=True, dtype=table.data.dtype)
    return uniq, leaf, inverse, leaf.data


def _integers(ids: Any) -> np.ndarray:
    """``ids`` as an array: integer arrays as they are (the fused step takes int32 too), others
    converted to int64."""
    ids = np.asarray(ids)
    return ids if ids.dtype.kind in "iu" else ids.astype(np.int64)


def sparse_step(
    model: SkipGram | CBOW,
    optimizer: _SparseOptimizer,
    center_ids: Any,
    context_ids: Any,
    negative_ids: Any,
    mask: Any = None,
    reduction: str = "sum",
    shared_as: int | None = None,
    concurrent: bool = False,
    buffers: StepBuffers | None = None,
) -> float:
    """One training step touching only the rows the batch uses; returns the loss.

    The unique input and output rows are copied into small leaf tensors, the loss of
    :func:`negative_sampling_loss_rows` (the output vectors looked up inside the loss node)
    is back-propagated to them (autograd sums the gradients of repeated ids), and ``optimizer``
    updates those rows of ``model.center.weight`` / ``model.context.weight`` in place. Same
    arguments as the model's ``forward``. When a batch uses more than half of a table's rows
    (a small vocabulary, a big batch) and the optimizer leaves zero-gradient rows as they are
    (SGD, Adagrad), the whole table is the leaf instead: no rows are copied out and back.

    ``shared_as``: None (word2vec's scheme) or ``k``: ``negative_ids`` (G, S) are then shared
    by groups of pairs and weighted as ``k`` negatives per pair, as in
    :func:`shared_negative_sampling_loss_rows`.

    Skip-gram with :class:`SparseSGD` (``reduction="sum"``, ``shared_as`` None), where the
    compiled loops apply, takes :func:`~.fused.fused_sgd_step` instead: the same step, to
    rounding, computed from the tables and written into them, without the leaf copies and
    gradients (about 16 MB for 4096 pairs).

    ``concurrent``: True when other threads update the same tables meanwhile (the workers of
    :func:`~.word2vec.train_word2vec`). The rows are then always updated in place
    (``w[rows] -= step``), never written back from the copy taken before the step, which
    would undo the other threads' updates made in between.

    ``buffers``: a :class:`~.fused.StepBuffers` the fused step reuses for its arrays (one per
    thread); None: fresh arrays.
    """
    c, o, neg = (_integers(ids) for ids in (center_ids, context_ids, negative_ids))
    if (
        type(model) is SkipGram and type(optimizer) is SparseSGD and shared_as is None
        and reduction == "sum" and mask is None
    ):  # fmt: skip
        loss = fused_sgd_step(
            model.center.weight.data, model.context.weight.data, c, o, neg, optimizer.lr,
            buffers,
        )  # fmt: skip
        if loss is not None:  # done in the tables by the compiled loops (module .fused)
            return loss
    c, o, neg = (np.asarray(ids, dtype=np.int64) for ids in (c, o, neg))
    if isinstance(model, CBOW):
        in_ids, out_pos = o, c
    else:
        in_ids, out_pos = c, o
    whole = optimizer.zero_grad_keeps_row
    in_rows, in_leaf, in_idx, in_values = _rows(model.center.weight, in_ids, whole)
    out_all = np.concatenate([out_pos.ravel(), neg.ravel()])
    out_rows, out_leaf, out_idx, out_values = _rows(model.context.weight, out_all, whole)
    pos_idx = out_idx[: out_pos.size]
    neg_idx = out_idx[out_pos.size :].reshape(neg.shape)
    h = _lookup(in_leaf, in_idx)
    if isinstance(model, CBOW):
        h = _masked_mean(h, np.ones(o.shape, bool) if mask is None else mask)
    if shared_as is None:
        loss = negative_sampling_loss_rows(h, out_leaf, pos_idx, neg_idx, reduction)
    else:
        loss = shared_negative_sampling_loss_rows(
            h, out_leaf, pos_idx, neg_idx, shared_as, reduction
        )
    loss.backward()
    optimizer.begin_step()
    if concurrent:
        in_values = out_values = None
    optimizer.update(model.center.weight, in_rows, in_leaf.grad, in_values)
    optimizer.update(model.context.weight, out_rows, out_leaf.grad, out_values)
    return float(loss.data)
