"""Negative sampling for word2vec: the noise sampler and the loss, as autograd nodes.

* :class:`NegativeSampler` draws negatives from the unigram distribution raised to 0.75 with
  Walker's alias method (O(1) per draw);
* :func:`negative_sampling_loss` is the loss on gathered vectors (the models' dense path);
  :func:`negative_sampling_loss_rows` is the same loss as one node that also does the
  output-vector lookups, so that its backward scatters with sparse products (the training
  path); :func:`shared_negative_sampling_loss_rows` is the opt-in variant whose groups of
  pairs share their negatives (same expected loss, not word2vec's algorithm).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _numba, ops
from ..autograd import make_result
from ..backend import get_array_module, new_rng, special
from ..backend import sparse as backend_sparse
from ..ops.shape import _scatter_rows
from ..tensor import Tensor
from .vocab import Vocabulary

__all__ = [
    "NegativeSampler",
    "negative_sampling_loss",
    "negative_sampling_loss_rows",
    "shared_negative_sampling_loss_rows",
]


def _alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of the distribution ``p``: ``(keep, alias)``, both of length n.

    A draw picks a column ``i`` uniformly and returns ``i`` with probability ``keep[i]``, else
    ``alias[i]``; so word ``w`` comes out with probability
    ``(keep[w] + sum of (1 - keep[i]) over the columns i aliased to w) / n = p[w]``.

    Vose's construction, with the "small" columns (``n p < 1``) placed in blocks: each "large"
    column (``n p >= 1``) fills the deficits ``1 - n p`` of a run of small ones found by one
    ``searchsorted`` on their cumulative sum, and becomes small itself once its surplus runs
    out. The Python loop runs once per large column, not once per word.
    """
    n = p.size
    q = np.asarray(p, dtype=np.float64) * n
    keep = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int64)
    small = np.flatnonzero(q < 1.0)
    deficit = np.cumsum(1.0 - q[small])  # deficit[j]: the deficits of small[0..j] together
    i, carry = 0, -1  # next small column to fill; a large column turned small, if any
    for big in np.flatnonzero(q >= 1.0):
        surplus = q[big] - 1.0
        if carry >= 0:
            keep[carry], alias[carry] = q[carry], big
            surplus -= 1.0 - q[carry]
            carry = -1
        if surplus >= 0.0 and i < small.size:
            base = deficit[i - 1] if i else 0.0
            # fill small columns while the surplus is not negative, the last one included
            j = min(int(np.searchsorted(deficit, base + surplus, side="right")) + 1, small.size)
            block = small[i:j]
            keep[block], alias[block] = q[block], big
            surplus -= (1.0 - q[block]).sum()  # exact, not a difference of two cumsums
            i = j
        if surplus < 0.0:
            q[big], carry = 1.0 + surplus, int(big)
    return keep, alias  # columns left over (rounding only) keep themselves with probability 1


class NegativeSampler:
    """Draws negatives from ``counts ** power`` (unigram^0.75 by default), vectorized.

    Walker's alias method (:func:`_alias_table`): O(1) per draw, from one uniform number whose
    integer part (times the vocabulary size) picks a column and whose fraction decides between
    the column and its alias: 9 ns a draw against 80 for ``searchsorted`` on a cumulative
    table (a binary search per draw), on an 8k-word vocabulary. ``sampler(shape)`` returns
    int64 ids of that shape; ``sampler.sample(n)`` gives ``(n, k)``. A negative may coincide
    with the positive word (word2vec.c and gensim skip such draws; redrawing them changed
    nothing measurable here).
    """

    def __init__(self, vocab: Vocabulary, k: int = 5, power: float = 0.75, rng: Any = None):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k (negatives per positive) must be a positive int, got {k!r}")
        self.k = int(k)
        self.power = float(power)
        self.probabilities = vocab.noise_distribution(power)
        self.keep, self.alias = _alias_table(self.probabilities)
        self.rng = new_rng(rng)

    def __call__(self, shape: Any) -> np.ndarray:
        n = self.keep.size
        # float64 has 53 bits: log2(n) of them pick the column, the rest (40 for 8k words,
        # 33 for 1M) are the uniform fraction compared with keep
        x = self.rng.random(shape)
        x *= n
        col = x.astype(np.int64)
        np.minimum(col, n - 1, out=col)  # u * n may round up to n
        x -= col
        return np.where(x < self.keep.take(col), col, self.alias.take(col))

    def sample(self, n: int) -> np.ndarray:
        """``(n, k)`` negative ids."""
        return self((int(n), self.k))


def negative_sampling_loss(
    h: Tensor, u_pos: Tensor, u_neg: Tensor, reduction: str = "mean"
) -> Tensor:
    """``-log s(u_o . h) - sum_k log s(-u_k . h)``, with ``s`` the sigmoid, per pair.

    ``h`` (B, D): input vectors; ``u_pos`` (B, D): output vectors of the true words;
    ``u_neg`` (B, K, D): output vectors of the negatives. ``-log s(x) = softplus(-x)``, computed
    as ``logaddexp(0, -x)``, keeps it finite for any score. ``reduction``: "mean" (over the B
    pairs) or "sum".

    One fused graph node: it is word2vec's hot loop, and composed from mul/sum/softplus it
    took about 12 nodes and as many temporaries per batch. The gradients are the classic
    ones: ``d/d(u_o . h) = s(u_o . h) - 1`` and ``d/d(u_k . h) = s(u_k . h)``.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    xp = get_array_module(h.data)
    H, P, N = h.data, u_pos.data, u_neg.data  # noqa: N806
    pos = xp.einsum("bd,bd->b", H, P)
    neg = xp.einsum("bkd,bd->bk", N, H)
    total = xp.logaddexp(0.0, -pos).sum() + xp.logaddexp(0.0, neg).sum()
    scale = 1.0 / len(H) if reduction == "mean" else 1.0
    data = xp.asarray(total * scale, dtype=H.dtype)

    def backward(g: Any) -> tuple[Any, Any, Any]:
        sigmoid = special(xp).expit
        d_pos = (sigmoid(pos) - 1.0) * (g * scale)  # (B,)
        d_neg = sigmoid(neg) * (g * scale)  # (B, K)
        gh = d_pos[:, None] * P + xp.einsum("bk,bkd->bd", d_neg, N) if h.requires_grad else None
        gp = d_pos[:, None] * H if u_pos.requires_grad else None
        gn = d_neg[:, :, None] * H[:, None, :] if u_neg.requires_grad else None
        return gh, gp, gn

    return make_result(data, "negative_sampling_loss", (h, u_pos, u_neg), backward)


def _softplus_sum(xp: Any, x: Any) -> Any:
    """``sum(softplus(x))`` as ``max(x, 0) + log1p(exp(-|x|))``: finite for any x, and about 8x
    faster than ``logaddexp(0, x)``, which NumPy does not vectorize."""
    return xp.maximum(x, 0).sum() + xp.log1p(xp.exp(-xp.abs(x))).sum()


def _row_loss(xp: Any, scores: Any) -> Any:
    """The summed loss of ``(B, K + 1)`` scores, column 0 the positive's: ``-log s(x) =
    softplus(-x)`` for the positive, ``-log s(-x) = softplus(x)`` for the negatives."""
    signed = scores.copy()
    signed[:, 0] *= -1
    return _softplus_sum(xp, signed)


def _row_coefs(xp: Any, scores: Any) -> Any:
    """The loss's gradient with respect to each score of :func:`_row_loss`: ``s(x) - 1`` for
    the positive, ``s(x)`` for the negatives (``d/dx softplus(x) = s(x)``)."""
    coef = special(xp).expit(scores)
    coef[:, 0] -= 1.0
    return coef


_SCORE_CHUNK = 1024  # pairs per gather in the forward: (1024, K+1, D) floats stay in cache
_KERNELS = "sinapsi.embeddings._numba_kernels"


def _row_numbers(xp: Any, pos_ids: Any, neg_ids: Any, n_rows: int) -> Any:
    """The ``(B, K + 1)`` table rows of the scores, column 0 the positive, all in
    ``[0, n_rows)``: negative ids count from the end, as in NumPy indexing; others raise.
    int32 where they fit, so that scipy need not convert them."""
    ids = xp.concatenate([pos_ids[:, None], neg_ids], axis=1)
    ids = table_rows(xp, "negative_sampling_loss_rows", "ids", ids, n_rows)
    return ids.astype(xp.int32 if n_rows < 2**31 else xp.int64, copy=False)


def table_rows(xp: Any, owner: str, what: str, ids: Any, n_rows: int) -> Any:
    """Integer ``ids`` as rows of a table of ``n_rows``: negative ids count from the end, as in
    NumPy indexing; a non-integer dtype raises TypeError, an id outside ``[-n_rows, n_rows)``
    IndexError, each naming ``owner`` and ``what``."""
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{owner}: {what} must be integers, got {ids.dtype}")
    if ids.size:
        low, high = int(ids.min()), int(ids.max())
        if low < -n_rows or high >= n_rows:
            raise IndexError(
                f"{owner}: {what} must be in [-{n_rows}, {n_rows}) for a table of {n_rows} "
                f"rows; got ids from {low} to {high}"
            )
        if low < 0:
            ids = xp.where(ids < 0, ids + n_rows, ids)
    return ids


def _row_kernels(table: Any, h: Any, ids: Any) -> Any:
    """The numba kernels (``_numba_kernels``) when they apply to these arrays, else None.
    The kernels do not check bounds: ``ids`` must come from :func:`_row_numbers`."""
    k = _numba.kernels(_KERNELS)
    if k is None or ids.size == 0 or not _numba.applies(table, h, ids):
        return None
    return k


def negative_sampling_loss_rows(
    h: Tensor, table: Tensor, pos_ids: Any, neg_ids: Any, reduction: str = "mean"
) -> Tensor:
    """:func:`negative_sampling_loss` with the output vectors given as rows of ``table``.

    Equals ``negative_sampling_loss(h, table[pos_ids], table[neg_ids], reduction)``, with
    ``h`` (B, D), ``table`` (U, D), ``pos_ids`` (B,) and ``neg_ids`` (B, K) ints in ``[0, U)``,
    but as one node that does the lookups itself, because they dominate word2vec's time:

    * forward: the ``B * (K + 1)`` rows are gathered a chunk of pairs at a time and dotted
      with ``h`` at once, so the ``(B, K + 1, D)`` array never exists whole (nor leaves cache);
    * backward: the score gradients form a sparse ``(B, U)`` matrix ``S`` (K + 1 entries a
      row, built directly in CSR form: nothing to sort), and ``dh = S @ table``,
      ``dtable = S.T @ h`` are two sparse-dense products. The gradient of a row picked many
      times is summed inside the product; no ``(B, K, D)`` gradient is made and scattered.

    Ids count from the end when negative, as in NumPy indexing; ids outside ``[-U, U)`` raise
    IndexError. With numba (:mod:`sinapsi._numba`) and float32/float64 NumPy arrays, the same
    sums run as compiled loops instead (``_numba_kernels``: about 3x faster forward, 2x
    backward); they agree with the NumPy path to rounding.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    xp = get_array_module(h.data, table.data)
    H, T = h.data, table.data  # noqa: N806
    n = len(H)
    pos_ids, neg_ids = xp.asarray(pos_ids), xp.asarray(neg_ids)
    if H.ndim != 2 or T.ndim != 2 or H.shape[1] != T.shape[1] or pos_ids.shape != (n,):
        raise ValueError(
            f"negative_sampling_loss_rows: h must be (B, D), table (U, D) and pos_ids (B,); got "
            f"h {tuple(H.shape)}, table {tuple(T.shape)}, pos_ids {tuple(pos_ids.shape)}"
        )
    if H.dtype != T.dtype:
        raise TypeError(
            f"negative_sampling_loss_rows: h and table must have one dtype; got {H.dtype} and "
            f"{T.dtype}"
        )
    if neg_ids.ndim != 2 or len(neg_ids) != n:
        raise ValueError(
            f"negative_sampling_loss_rows: neg_ids must be (B, K) with B = {n}; got "
            f"{tuple(neg_ids.shape)}"
        )
    ids = _row_numbers(xp, pos_ids, neg_ids, len(T))
    scores = xp.empty(ids.shape, dtype=H.dtype)
    kernels = _row_kernels(T, H, ids)
    if kernels is not None:
        kernels.row_scores(T, H, ids, scores)
    else:
        for start in range(0, n, _SCORE_CHUNK):
            part = slice(start, start + _SCORE_CHUNK)
            xp.einsum("bkd,bd->bk", xp.take(T, ids[part], axis=0), H[part], out=scores[part])
    total = _row_loss(xp, scores)
    scale = 1.0 / n if reduction == "mean" and n else 1.0
    data = xp.asarray(total * scale, dtype=H.dtype)

    def backward(g: Any) -> tuple[Any, Any]:
        coef = _row_coefs(xp, scores)
        if g * scale != 1:  # 1 for word2vec's summed loss
            coef *= g * scale
        if kernels is not None:
            gh = gt = None
            if h.requires_grad:
                gh = xp.empty_like(H)
                kernels.row_mix(coef, ids, T, gh)
            if table.requires_grad:
                gt = xp.empty_like(T)
                kernels.row_scatter(coef, ids, H, gt)
            return gh, gt
        width = ids.shape[1]
        grad_scores = backend_sparse(xp).csr_matrix(
            (coef.ravel(), ids.ravel(), xp.arange(0, ids.size + 1, width, dtype=ids.dtype)),
            shape=(n, len(T)),
        )
        gh = xp.asarray(grad_scores @ T) if h.requires_grad else None
        gt = xp.asarray(grad_scores.T @ H) if table.requires_grad else None
        return gh, gt

    return make_result(data, "negative_sampling_loss_rows", (h, table), backward)


def shared_negative_sampling_loss_rows(
    h: Tensor,
    table: Tensor,
    pos_ids: Any,
    neg_ids: Any,
    negative: int,
    reduction: str = "mean",
) -> Tensor:
    """Negative sampling with negatives shared by groups of pairs (not word2vec's own scheme).

    ``h`` (B, D) input vectors; ``table`` (U, D) output vectors; ``pos_ids`` (B,) the true
    words' rows; ``neg_ids`` (G, S): the pairs are cut into G consecutive groups of
    ``ceil(B / G)`` (the last one may be shorter), and the pairs of group ``j`` all share the
    S negatives ``neg_ids[j]``, each weighted by ``negative / S``. Per pair the loss is

        ``-log s(u_o . h) - (negative / S) * sum_s log s(-u_s . h)``

    whose expectation over the draws equals that of :func:`negative_sampling_loss` with
    ``negative`` negatives per pair (TensorFlow's ``nce_loss`` / sampled softmax share their
    sampled classes across the batch the same way). What changes is the variance: the pairs
    of a group see the same negatives. In exchange the negative scores of a group are one
    matrix product ``H_j @ N_j.T`` instead of ``K`` row gathers per pair, and the gradients
    two more products; only the positive rows are gathered and scattered per pair.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    xp = get_array_module(h.data, table.data)
    H, T = h.data, table.data  # noqa: N806
    n, dim = H.shape if H.ndim == 2 else (0, 0)
    pos_ids, neg_ids = xp.asarray(pos_ids), xp.asarray(neg_ids)
    if H.ndim != 2 or T.ndim != 2 or H.shape[1] != T.shape[1] or pos_ids.shape != (n,):
        raise ValueError(
            f"shared_negative_sampling_loss_rows: h must be (B, D), table (U, D) and pos_ids "
            f"(B,); got h {tuple(H.shape)}, table {tuple(T.shape)}, pos_ids "
            f"{tuple(pos_ids.shape)}"
        )
    groups = len(neg_ids) if neg_ids.ndim == 2 else 0
    size = -(-n // groups) if groups else 0  # pairs per group
    if neg_ids.ndim != 2 or not 0 < groups <= n or (groups - 1) * size >= n:
        raise ValueError(
            f"shared_negative_sampling_loss_rows: neg_ids must be (G, S) with G groups of "
            f"ceil(B / G) pairs, none empty, for B = {n}; got {tuple(neg_ids.shape)}"
        )
    if H.dtype != T.dtype:
        raise TypeError(
            f"shared_negative_sampling_loss_rows: h and table must have one dtype; got "
            f"{H.dtype} and {T.dtype}"
        )
    shared = neg_ids.shape[1]
    weight = negative / shared
    full = n // size  # groups of ``size`` pairs; a shorter one after them if full < groups
    cut = full * size
    P = xp.take(T, pos_ids, axis=0)  # noqa: N806
    N = xp.take(T, neg_ids, axis=0)  # noqa: N806  (G, S, D)
    pos = xp.einsum("bd,bd->b", H, P)
    neg = xp.empty((n, shared), dtype=H.dtype)
    xp.matmul(
        H[:cut].reshape(full, size, dim),
        N[:full].transpose(0, 2, 1),
        out=neg[:cut].reshape(full, size, shared),
    )
    if cut < n:
        neg[cut:] = H[cut:] @ N[full].T

    scale = 1.0 / n if reduction == "mean" else 1.0
    total = _softplus_sum(xp, -pos) + weight * _softplus_sum(xp, neg)
    data = xp.asarray(total * scale, dtype=H.dtype)

    def backward(g: Any) -> tuple[Any, Any]:
        sigmoid = special(xp).expit
        d_pos = (sigmoid(pos) - 1.0) * (g * scale)  # (B,)
        d_neg = sigmoid(neg) * (g * (scale * weight))  # (B, S)
        d_full = d_neg[:cut].reshape(full, size, shared)
        gh = gt = None
        if h.requires_grad:
            gh = d_pos[:, None] * P
            gh[:cut] += xp.matmul(d_full, N[:full]).reshape(cut, dim)
            if cut < n:
                gh[cut:] += d_neg[cut:] @ N[full]
        if table.requires_grad:
            g_neg = xp.empty(N.shape, dtype=H.dtype)  # (G, S, D): gradient of each shared row
            xp.matmul(d_full.transpose(0, 2, 1), H[:cut].reshape(full, size, dim), out=g_neg[:full])
            if cut < n:
                g_neg[full] = d_neg[cut:].T @ H[cut:]
            sp = backend_sparse(xp)
            rows = xp.arange(n + 1, dtype=xp.int32)
            by_pos = sp.csr_matrix((d_pos, pos_ids.astype(xp.int32, copy=False), rows), (n, len(T)))
            gt = xp.asarray(by_pos.T @ H)
            gt += _scatter_rows(xp, T.shape, neg_ids, g_neg.reshape(neg_ids.size, dim))
        return gh, gt

    return make_result(data, "shared_negative_sampling_loss_rows", (h, table), backward)


def _lookup(table: Tensor, ids: Any) -> Tensor:
    """``table[ids]`` (rows picked by an integer array of any shape) as one graph node.

    The same as ``ops.getitem(table, ids)``, but the rows are picked with ``take`` (about 2x
    faster than fancy indexing); the backward is getitem's scatter (``ops.shape._scatter_rows``,
    one sparse-dense product).
    """
    xp = get_array_module(table.data)
    T = table.data  # noqa: N806
    ids = xp.asarray(ids)
    flat = ids.reshape(-1)
    data = xp.take(T, flat, axis=0).reshape(ids.shape + T.shape[1:])

    def backward(g: Any) -> tuple[Any]:
        return (_scatter_rows(xp, T.shape, flat, g),)

    return make_result(data, "lookup", (table,), backward)


def _masked_mean(vectors: Tensor, mask: Any) -> Tensor:
    """Mean over axis 1 of ``vectors`` (B, C, D), counting only the slots where ``mask``."""
    m = np.asarray(mask, dtype=bool)
    weights = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    w = Tensor(weights[:, :, None], dtype=vectors.dtype)
    return ops.sum(vectors * w, axis=1)
