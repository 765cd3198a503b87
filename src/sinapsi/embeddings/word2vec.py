"""word2vec: skip-gram and CBOW with negative sampling, trained with sinapsi's autograd.

Decomposed as in chainer's word2vec example (DESIGN.md section 26):

* the data: a :class:`~sinapsi.embeddings.Vocabulary`, frequent-word subsampling, and the
  window iterators :func:`window_pairs` (skip-gram) / :func:`cbow_windows` (CBOW);
* the models: :class:`SkipGram` and :class:`CBOW`, Modules over two
  :class:`~sinapsi.nn.Embedding` tables (``center``: input vectors, ``context``: output vectors);
* the loss (module :mod:`.negative_sampling`): :func:`negative_sampling_loss`, with negatives
  drawn by :class:`NegativeSampler` (Walker's alias method) from the unigram distribution
  raised to 0.75;
* the loop: :func:`train_word2vec`.

Sparse updates. ``model(...)`` is the dense autograd path: its gradient is a full
``(vocab_size, dim)`` array, fine for tests and small vocabularies. :func:`train_word2vec`
never builds one: :func:`sparse_step` gathers the unique rows a batch uses into small leaf
tensors, runs the same loss through autograd on them -- as
:func:`negative_sampling_loss_rows`, the one node that also does the output-vector lookups,
so that its backward scatters the gradients with sparse products instead of building a
``(B, K, D)`` array -- and a sparse optimizer (:class:`SparseSGD`, :class:`SparseAdagrad`,
:class:`SparseAdam`) updates only those rows. One step of :class:`SparseSGD` equals a dense
SGD step on the same batch (tested).

An opt-in variant shares the negatives among groups of pairs
(:func:`shared_negative_sampling_loss_rows`, ``train_word2vec(share_negatives=G)``): same
expected loss, faster, but not word2vec's algorithm.

>>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 20
>>> kv = train_word2vec(sentences, dim=8, window=2, min_count=1, sample=0, epochs=1, seed=0)
>>> kv.vectors.shape
(4, 8)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..backend import get_array_module, new_rng
from ..nn import Embedding, Module
from ..optim import _numba
from ..tensor import Tensor
from .negative_sampling import (
    NegativeSampler,
    _lookup,
    _masked_mean,
    negative_sampling_loss,
    negative_sampling_loss_rows,
    shared_negative_sampling_loss_rows,
)
from .vectors import KeyedVectors
from .vocab import Vocabulary, read_corpus

__all__ = [
    "CBOW",
    "NegativeSampler",
    "SkipGram",
    "SparseAdagrad",
    "SparseAdam",
    "SparseSGD",
    "cbow_windows",
    "negative_sampling_loss",
    "negative_sampling_loss_rows",
    "shared_negative_sampling_loss_rows",
    "sparse_step",
    "train_word2vec",
    "window_pairs",
]


# ---------------------------------------------------------------------------- data
def _check_window(window: Any) -> int:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    return int(window)


def _reduced_windows(n: int, window: int, rng: Any, dynamic: bool) -> np.ndarray:
    """word2vec's dynamic window: each position's size drawn uniformly in [1, window]."""
    if dynamic:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"dynamic windows need rng, a numpy Generator (sinapsi.backend.new_rng(seed)), "
                f"got {rng!r}"
            )
        return rng.integers(1, window + 1, size=n)
    return np.full(n, window, dtype=np.int64)


def window_pairs(
    sentence_ids: Any, window: int, rng: Any = None, dynamic: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) id pairs of one sentence, for skip-gram.

    Position ``i`` pairs with the words at ``i - d`` and ``i + d`` for ``d = 1..b_i``, where
    ``b_i = window`` or, when ``dynamic`` (word2vec's default), ``b_i`` is drawn uniformly in
    ``[1, window]`` -- near words are then sampled more often than far ones. Pairs come offset by
    offset (all ``+1`` pairs, all ``-1`` pairs, then ``+2``...), as two int64 arrays.

    >>> c, o = window_pairs([10, 11, 12], window=1, dynamic=False)
    >>> list(zip(c.tolist(), o.tolist()))
    [(10, 11), (11, 12), (11, 10), (12, 11)]
    """
    window = _check_window(window)
    ids = np.asarray(sentence_ids, dtype=np.int64).ravel()
    n = ids.size
    b = _reduced_windows(n, window, rng, dynamic)
    centers, contexts = [], []
    for d in range(1, min(window, n - 1) + 1):
        ok = b[: n - d] >= d  # center i, context i + d
        centers.append(ids[: n - d][ok])
        contexts.append(ids[d:][ok])
        ok = b[d:] >= d  # center i, context i - d
        centers.append(ids[d:][ok])
        contexts.append(ids[: n - d][ok])
    if not centers:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(centers), np.concatenate(contexts)


def cbow_windows(
    sentence_ids: Any, window: int, rng: Any = None, dynamic: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed-width CBOW contexts of one sentence: ``(centers, contexts, mask)``.

    ``contexts`` has shape ``(n, 2 * window)``: column ``j < window`` holds the word at offset
    ``-(window - j)``, column ``window + j`` the word at ``+(j + 1)``; slots outside the sentence
    or beyond the (dynamic) window hold id 0 with ``mask`` False. Positions with no context
    word at all (a one-word sentence) are dropped.
    """
    window = _check_window(window)
    ids = np.asarray(sentence_ids, dtype=np.int64).ravel()
    n = ids.size
    b = _reduced_windows(n, window, rng, dynamic)
    pos = np.arange(n)
    contexts = np.zeros((n, 2 * window), dtype=np.int64)
    mask = np.zeros((n, 2 * window), dtype=bool)
    for d in range(1, window + 1):
        for col, j in ((window - d, pos - d), (window + d - 1, pos + d)):
            ok = (j >= 0) & (j < n) & (b >= d)
            contexts[ok, col] = ids[j[ok]]
            mask[:, col] = ok
    keep = mask.any(axis=1)
    return ids[keep], contexts[keep], mask[keep]


# ---------------------------------------------------------------------------- models
class _Word2VecModel(Module):
    def __init__(self, vocab_size: int, dim: int, rng: Any = None, dtype: Any = None) -> None:
        super().__init__()
        rng = new_rng(rng)
        self.vocab_size, self.dim = int(vocab_size), int(dim)
        self.center = Embedding(vocab_size, dim, rng=rng, dtype=dtype)
        self.context = Embedding(vocab_size, dim, rng=rng, dtype=dtype)
        # word2vec's init: input vectors uniform(-0.5/dim, 0.5/dim), output vectors zero
        w = self.center.weight.data
        w[...] = rng.uniform(-0.5 / dim, 0.5 / dim, size=w.shape)
        self.context.weight.data[...] = 0

    def get_config(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "dim": self.dim}


class SkipGram(_Word2VecModel):
    """Skip-gram: the center word's input vector predicts each context word.

    ``forward(center_ids (B,), context_ids (B,), negative_ids (B, K))`` returns the
    negative-sampling loss, the mean over the B pairs (``reduction="sum"`` for the sum).
    """

    def forward(
        self, center_ids: Any, context_ids: Any, negative_ids: Any, reduction: str = "mean"
    ) -> Tensor:
        return negative_sampling_loss(
            self.center(center_ids),
            self.context(context_ids),
            self.context(negative_ids),
            reduction,
        )


class CBOW(_Word2VecModel):
    """CBOW: the mean of the context words' input vectors predicts the center word.

    ``forward(center_ids (B,), context_ids (B, C), negative_ids (B, K), mask=None)``: each row
    of ``context_ids`` is a fixed-width window (as made by :func:`cbow_windows`); ``mask``
    (B, C) bool marks the real slots (None: all). Note the naming: ``self.center`` holds the
    *input* vectors (here looked up for the context words) and ``self.context`` the *output*
    vectors (looked up for the center word and the negatives).
    """

    def forward(
        self,
        center_ids: Any,
        context_ids: Any,
        negative_ids: Any,
        mask: Any = None,
        reduction: str = "mean",
    ) -> Tensor:
        ctx = np.asarray(context_ids)
        if mask is None:
            mask = np.ones(ctx.shape, dtype=bool)
        h = _masked_mean(self.center(ctx), mask)
        return negative_sampling_loss(
            h, self.context(center_ids), self.context(negative_ids), reduction
        )


# ---------------------------------------------------------------------------- sparse updates
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
    """``w[rows] -= lr * grad`` (rows unique); the dense SGD step restricted to those rows."""

    def update(self, param: Tensor, rows: np.ndarray, grad: np.ndarray, values: Any = None) -> None:
        whole = isinstance(rows, slice)
        if (not whole or rows == slice(None)) and _numba.sgd_rows_update(
            param.data, None if whole else rows, grad, self.lr
        ):
            return  # the same arithmetic in one loop (optional numba)
        step = (grad * self.lr).astype(param.data.dtype, copy=False)
        self._apply(param, rows, step, values)


class SparseAdagrad(_SparseOptimizer):
    """Adagrad on the touched rows: ``G[rows] += g**2; w[rows] -= lr * g / (sqrt(G) + eps)``."""

    def __init__(self, params: Any, lr: float, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = eps

    def update(self, param: Tensor, rows: np.ndarray, grad: np.ndarray, values: Any = None) -> None:
        st = self.state.setdefault(id(param), {"sum": np.zeros_like(param.data)})
        acc = st["sum"][rows] + grad * grad
        st["sum"][rows] = acc
        self._apply(param, rows, self.lr * grad / (np.sqrt(acc) + self.eps), values)


class SparseAdam(_SparseOptimizer):
    """Lazy Adam (as ``torch.optim.SparseAdam``): moments of the touched rows only, global step."""

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
        m = b1 * st["m"][rows] + (1 - b1) * grad
        v = b2 * st["v"][rows] + (1 - b2) * grad * grad
        st["m"][rows], st["v"][rows] = m, v
        mhat, vhat = m / (1 - b1**self.t), v / (1 - b2**self.t)
        self._apply(param, rows, self.lr * mhat / (np.sqrt(vhat) + self.eps), values)


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


def sparse_step(
    model: SkipGram | CBOW,
    optimizer: _SparseOptimizer,
    center_ids: Any,
    context_ids: Any,
    negative_ids: Any,
    mask: Any = None,
    reduction: str = "sum",
    shared_as: int | None = None,
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
    """
    c = np.asarray(center_ids, dtype=np.int64)
    o = np.asarray(context_ids, dtype=np.int64)
    neg = np.asarray(negative_ids, dtype=np.int64)
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
    optimizer.update(model.center.weight, in_rows, in_leaf.grad, in_values)
    optimizer.update(model.context.weight, out_rows, out_leaf.grad, out_values)
    return float(loss.data)


# ---------------------------------------------------------------------------- training
def _batches(
    corpus: Any,
    vocab: Vocabulary,
    model: str,
    window: int,
    sample: float,
    batch_size: int,
    rng: np.random.Generator,
    chunk_words: int = 100_000,
) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """Yield ``(raw words consumed, batch arrays)``; pairs are shuffled within chunks."""
    buffers: list[tuple[np.ndarray, ...]] = []
    pending, consumed = 0, 0

    def flush() -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        arrays = tuple(np.concatenate(parts) for parts in zip(*buffers))
        order = rng.permutation(len(arrays[0]))
        arrays = tuple(a[order] for a in arrays)
        n = len(order)
        nb = max(1, -(-n // batch_size))
        for i in range(nb):
            sl = slice(i * batch_size, (i + 1) * batch_size)
            yield (consumed if i == nb - 1 else 0), tuple(a[sl] for a in arrays)

    for sentence in corpus:
        ids = vocab.encode(sentence)
        consumed += ids.size
        if sample > 0:
            ids = vocab.subsample(ids, rng, sample)
        if ids.size < 2:
            continue
        if model == "cbow":
            parts = cbow_windows(ids, window, rng)
        else:
            parts = window_pairs(ids, window, rng)
        if parts[0].size:
            buffers.append(parts)
            pending += parts[0].size
        if pending >= chunk_words:
            yield from flush()
            buffers, pending, consumed = [], 0, 0
    if buffers:
        yield from flush()
    elif consumed:
        yield consumed, ()


PAIRS_IN_FLIGHT = 4096  # train_word2vec's default: batch_size = PAIRS_IN_FLIGHT // workers


def _keep_freed_memory() -> None:
    """Have glibc's malloc keep freed blocks of up to 32 MB for reuse (a no-op elsewhere).

    A training step allocates and frees some 10-30 MB of arrays. glibc serves a block larger
    than its mmap threshold with a fresh ``mmap`` and gives the top of its heap back to the OS
    once more than twice that threshold is free, so every batch faulted its memory in again:
    measured, a million page faults and half the time in the kernel for one epoch at batch
    8192. The threshold starts at 128 KB and rises by itself to the size of the largest
    mmap-ed block freed, up to 32 MB (mallopt(3), "dynamic mmap threshold"); allocating and
    freeing one 32 MB block (never touched, so it costs nothing) raises it once for the
    process: later blocks come from the heap and the heap is trimmed only past 64 MB free.
    """
    np.empty((32 << 20) - (64 << 10), dtype=np.uint8)


def train_word2vec(
    corpus: Any,
    *,
    model: str = "skipgram",
    dim: int = 100,
    window: int = 5,
    negative: int = 5,
    min_count: int = 5,
    sample: float = 1e-3,
    epochs: int = 5,
    batch_size: int | None = None,
    lr: float = 0.025,
    optimizer: str = "sgd",
    seed: Any = None,
    verbose: int = 0,
    max_vocab: int | None = None,
    share_negatives: int = 1,
    workers: int = 1,
) -> KeyedVectors:
    """Train word2vec on ``corpus`` (a file path, or sentences: strings or token lists).

    Builds the :class:`Vocabulary` (``min_count``, ``max_vocab``), then for each epoch streams
    the corpus, subsamples frequent words (``sample``; 0 keeps all), makes dynamic windows,
    shuffles the pairs in chunks of about 100k, and takes one :func:`sparse_step` per
    ``batch_size`` pairs with ``negative`` negatives each (unigram^0.75).

    The per-batch loss is the *sum* over pairs, so ``lr`` means what it means in word2vec /
    gensim (the step each pair contributes). ``optimizer``: "sgd" (lr decays linearly to
    ``lr * 1e-4`` over the training words, as word2vec), "adagrad" or "adam" (constant lr).
    ``verbose``: a tqdm bar with words/s and the mean loss per pair. Returns the input vectors
    as :class:`KeyedVectors`; the same ``seed`` gives identical vectors.

    ``batch_size``: pairs per step; None (the default) is ``4096 // workers``, so that 4096
    pairs are in flight at once whatever the workers. On the head500 benchmark corpus the
    word vectors scored the same from 256 to 4096 pairs a step (analogies and word
    similarity, 5 seeds) and worse from 16384 (analogies about -20%): every pair of a batch
    is computed with the same, stale vectors, and with W workers W batches are in flight.
    Measured over 8 seeds with 2 workers: 4096 pairs a step scored 0.89x gensim's analogy
    accuracy, 2048 scored 0.93x (one worker, 4096: 0.94x), at the same speed. Bigger batches
    are faster (fewer, larger NumPy calls), up to about 4096.

    ``share_negatives``: 1 (the default) is word2vec's scheme, every pair draws its own
    ``negative`` negatives. An opt-in ``G > 1`` lets each group of G consecutive (shuffled)
    pairs share one draw of ``negative`` negatives (:func:`shared_negative_sampling_loss_rows`):
    the expected loss is the same, the negative scores and gradients become small matrix
    products instead of row gathers: 1.6-1.9x faster with G = 64 on head500, where (10 seeds)
    analogies scored as with G = 1 and word similarity higher (Spearman 0.45 against 0.37).
    It is not word2vec's algorithm: the pairs of a group see the same negatives.

    ``workers``: threads that take batches in turn and update the shared tables without locks
    ("Hogwild", as word2vec.c and gensim's ``workers`` do). The batches, negatives and
    learning rates are drawn in the same order whatever the count, but with more than one
    worker the updates interleave as the threads run: the vectors then differ from run to run
    even with a seed (gensim's too). The compiled loops of the loss (numba, with
    ``sinapsi[fast]``) and NumPy's large array loops release Python's GIL, so two workers
    train about 1.7x faster on two cores (head500). 1, the default, is one thread: the same
    seed gives identical vectors.
    """
    if model not in ("skipgram", "cbow"):
        raise ValueError(f"model must be 'skipgram' or 'cbow', got {model!r}")
    if optimizer not in ("sgd", "adam", "adagrad"):
        raise ValueError(f"optimizer must be 'sgd', 'adam' or 'adagrad', got {optimizer!r}")
    for name, value in (("dim", dim), ("negative", negative), ("epochs", epochs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    if (
        isinstance(share_negatives, bool)
        or not isinstance(share_negatives, (int, np.integer))
        or share_negatives < 1
    ):
        raise ValueError(
            f"share_negatives must be a positive int (1: every pair draws its own negatives, "
            f"as word2vec), got {share_negatives!r}"
        )
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(
            f"workers must be a positive int (1: one thread, reproducible), got {workers!r}"
        )
    if batch_size is None:
        batch_size = max(1, PAIRS_IN_FLIGHT // workers)
    window = _check_window(window)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")

    corpus = read_corpus(corpus)
    _keep_freed_memory()
    rng = new_rng(seed)
    vocab = Vocabulary.build(corpus, min_count=min_count, max_vocab=max_vocab)
    vocab.keep_probabilities(sample)  # validates sample
    cls = CBOW if model == "cbow" else SkipGram
    net = cls(len(vocab), dim, rng=rng)
    sampler = NegativeSampler(vocab, k=negative, rng=rng)
    params = [net.center.weight, net.context.weight]
    opt: _SparseOptimizer
    if optimizer == "sgd":
        opt = SparseSGD(params, lr)
    elif optimizer == "adagrad":
        opt = SparseAdagrad(params, lr)
    else:
        opt = SparseAdam(params, lr)

    total_words = int(vocab.counts.sum()) * epochs
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_words, unit="word", unit_scale=True, desc="word2vec")

    def stream() -> Iterator[tuple[int, int, tuple[np.ndarray, ...]]]:
        for epoch in range(epochs):
            for consumed, batch in _batches(corpus, vocab, model, window, sample, batch_size, rng):
                yield epoch, consumed, batch

    batches = stream()
    lock = threading.Lock()  # guards the stream, the sampler (both use rng) and the counters
    stop = threading.Event()
    start = time.perf_counter()
    done, loss_sum, pairs_seen = 0, 0.0, 0
    shared_as = None if share_negatives == 1 else negative

    def next_job() -> tuple[tuple[np.ndarray, ...], np.ndarray, float] | None:
        """The next batch, its negatives and its lr: drawn in one order whatever the workers."""
        nonlocal done, loss_sum, pairs_seen
        with lock:
            while not stop.is_set():
                item = next(batches, None)
                if item is None:
                    return None
                epoch, consumed, batch = item
                step_lr = lr * max(1e-4, 1.0 - done / total_words)
                done += consumed
                if bar is not None and consumed:
                    bar.update(consumed)
                    rate = done / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix(
                        epoch=epoch + 1,
                        loss=f"{loss_sum / max(pairs_seen, 1):.4f}",
                        words_s=f"{rate:.0f}",
                    )
                    loss_sum, pairs_seen = 0.0, 0
                if batch:
                    return batch, sampler.sample(-(-len(batch[0]) // share_negatives)), step_lr
        return None

    def work(worker_opt: _SparseOptimizer) -> None:
        nonlocal loss_sum, pairs_seen
        while (job := next_job()) is not None:
            batch, negs, step_lr = job
            if optimizer == "sgd":
                worker_opt.lr = step_lr
            loss = sparse_step(
                net, worker_opt, batch[0], batch[1], negs, *batch[2:], shared_as=shared_as
            )
            with lock:
                loss_sum += loss
                pairs_seen += len(batch[0])

    errors: list[BaseException] = []

    def guarded(worker_opt: _SparseOptimizer) -> None:
        try:
            work(worker_opt)
        except BaseException as error:  # noqa: BLE001 - raised again in the calling thread
            errors.append(error)
            stop.set()

    # SGD keeps no state: each worker gets its own (its own lr); Adam and Adagrad share theirs
    threads = [
        threading.Thread(
            target=guarded,
            args=(SparseSGD(params, lr) if optimizer == "sgd" else opt,),
            name=f"sinapsi-word2vec-{i}",
            daemon=True,
        )
        for i in range(1, workers)
    ]
    try:
        for thread in threads:
            thread.start()
        work(opt)  # this thread is worker 0
    finally:
        stop.set()  # after an error here: the others stop at their next batch
        for thread in threads:
            thread.join()
        if bar is not None:
            bar.close()
    if errors:
        raise errors[0]
    return KeyedVectors(vocab.words, net.center.weight.data)
