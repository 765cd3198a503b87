"""word2vec's training pairs, made a chunk of many sentences at a time.

From an :class:`~sinapsi.embeddings.encoding.EncodedCorpus`, one epoch is: visit the
sentences in a fresh random order (``shuffle_sentences``, the default), subsample each
word (kept with probability :meth:`Vocabulary.keep_probabilities`), draw each kept word's
window size uniformly in ``[1, window]``, cut sentences into pieces of ``max_length`` words
(after subsampling, as word2vec.c and gensim; pieces of fewer than 2 words give nothing),
make the skip-gram pairs or CBOW windows of each piece, and shuffle them in groups: a group
closes at the end of the first sentence that brings it to ``chunk_rows`` rows (pairs for
skip-gram, windows for CBOW; 100k by default), and at the end of the epoch.

Why the sentence order is shuffled: a batch's gradients are computed from the same vectors
and a word's steps in a batch are summed, so a word must not crowd one batch. In file order it
does wherever a text dwells on a topic: on the benchmark's 5.5M-word corpus of kernel and Python
documentation (benchmarks/word2vec.py, ``large``), a page naming "ufs" a hundred times put ~200
of its pairs in a batch of 4096, even with pairs shuffled in groups of 100k; such words' vectors
reached norms of 1,900 (median 3.7) and the analogy accuracy fell to a tenth of gensim's
(sequential updates, which never sum). Visiting the sentences in random order spreads those
pages over the whole epoch: norms at most 6.6 (median 0.93), analogies and word similarity at
or above gensim's (1 epoch, 1 worker, seeds 1 and 2), at the same speed. Within a sentence the
words stay in order, so a corpus of few, long lines (a line a document) gains nothing from it,
and needs none: its pairs are already shuffled over ~100k rows from many documents' words.

The randomness is drawn so that it can be drawn a chunk at a time (:class:`Streams`): four
Generators spawned from the training's (``SeedSequence.spawn``), one for the subsampling
uniforms (one per word of a sentence, in order), one for the window sizes (one uniform per
kept word, ``1 + floor(u * window)``), one for the shuffles (one permutation per group), one
for the sentence order (one permutation per epoch, from four draws: :mod:`._sentence_order`,
computed a slice at a time, not stored). A Generator's doubles come one per 64-bit output, so
drawing N at once gives the same numbers as drawing them sentence by sentence:
:func:`chunk_groups` (whole chunks, vectorized NumPy or the compiled loops of
:mod:`._pipeline_kernels`) gives exactly the groups of :func:`reference_groups` (sentence by
sentence, word by word: the definition, for tests).

Before this pipeline one Generator drew the subsampling and the window sizes (``integers``)
interleaved, sentence by sentence: the same distribution, but other draws, so a given seed
trains other vectors than it did then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .. import _numba
from ._sentence_order import SentenceOrder
from .encoding import EncodedCorpus
from .vocab import Vocabulary

__all__ = ["BLOCK_TOKENS", "CHUNK_ROWS", "Streams", "chunk_groups", "reference_groups"]

CHUNK_ROWS = 100_000  # rows (pairs or windows) a shuffled group holds, about
BLOCK_TOKENS = 1 << 14  # words subsampled and windowed at once (whole sentences): ~1.5 MB
_ORDER_AHEAD = 1 << 13  # sentences of the epoch's order computed at once (64 KB)
_KERNELS = "sinapsi.embeddings._pipeline_kernels"

Group = tuple[int, tuple[np.ndarray, ...]]  # (words consumed, the group's shuffled arrays)


@dataclass
class Streams:
    """The pipeline's four Generators: subsampling, window sizes, shuffles, sentence order."""

    subsample: np.random.Generator
    windows: np.random.Generator
    shuffle: np.random.Generator
    order: np.random.Generator

    @classmethod
    def spawn(cls, rng: np.random.Generator) -> Streams:
        """Four independent streams seeded from ``rng`` (which draws 4 integers for them)."""
        seed = np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
        return cls(*(np.random.Generator(np.random.PCG64(s)) for s in seed.spawn(4)))

    def sentence_order(self, n: int) -> SentenceOrder:
        """An epoch's order of ``n`` sentences: a pseudo-random permutation keyed by four draws
        of ``order``, computed a slice at a time (:mod:`._sentence_order`: not stored)."""
        return SentenceOrder(n, self.order)


def window_sizes(u: np.ndarray, window: int) -> np.ndarray:
    """Window sizes from uniforms in [0, 1): ``1 + floor(u * window)``, uniform in [1, window]."""
    b = (u * window).astype(np.int64)
    b += 1
    np.minimum(b, window, out=b)  # u * window can round up to window for u near 1
    return b


# ---------------------------------------------------------------------------- reference
def reference_groups(
    encoded: EncodedCorpus, vocab: Vocabulary, model: str, window: int, sample: float,
    streams: Streams, *, max_length: int, width: int, chunk_rows: int = CHUNK_ROWS,
    shuffle_sentences: bool = True,
) -> Iterator[Group]:  # fmt: skip
    """One epoch's groups, sentence by sentence and word by word (slow; the definition).

    Sentences come in :meth:`Streams.sentence_order` when ``shuffle_sentences``, else in order.

    Skip-gram rows: for each kept word ``i`` of a piece, in order, the pairs ``(w_i, w_j)`` for
    ``j`` from ``i - b_i`` to ``i + b_i`` within the piece, ``j != i``, in increasing ``j``.
    CBOW rows: one per word with at least one context word: ``2 * width`` slots, slot
    ``width - d`` for offset ``-d``, ``width + d - 1`` for ``+d``; empty slots hold 0, masked.
    """
    keep = vocab.keep_probabilities(sample)
    rows: list[tuple[np.ndarray, ...]] = []
    consumed = 0
    n = len(encoded)
    order = np.asarray(streams.sentence_order(n)) if shuffle_sentences else range(n)
    for s in order:
        ids = encoded.sentence(int(s)).astype(np.int32)
        consumed += ids.size
        if sample > 0:
            ids = ids[streams.subsample.random(ids.size) < keep[ids]]
        b = window_sizes(streams.windows.random(ids.size), window)
        for start in range(0, ids.size, max_length):
            piece, bp = ids[start : start + max_length], b[start : start + max_length]
            n = piece.size
            for i in range(n):
                lo, hi = max(0, i - bp[i]), min(n, i + bp[i] + 1)
                if model == "skipgram":
                    rows.extend((piece[i], piece[j]) for j in range(lo, hi) if j != i)
                elif hi - lo > 1:
                    context = np.zeros(2 * width, np.int32)
                    mask = np.zeros(2 * width, bool)
                    for j in range(lo, hi):
                        if j != i:
                            col = width - (i - j) if j < i else width + (j - i) - 1
                            context[col], mask[col] = piece[j], True
                    rows.append((piece[i], context, mask))
        if len(rows) >= chunk_rows:
            yield consumed, _shuffled(rows, streams)
            rows, consumed = [], 0
    if rows:
        yield consumed, _shuffled(rows, streams)
    elif consumed:
        yield consumed, ()


def _shuffled(rows: list[tuple[np.ndarray, ...]], streams: Streams) -> tuple[np.ndarray, ...]:
    arrays = tuple(np.array(column) for column in zip(*rows))
    order = streams.shuffle.permutation(len(rows))
    return tuple(a[order] for a in arrays)


# ---------------------------------------------------------------------------- chunked
def chunk_groups(
    encoded: EncodedCorpus, vocab: Vocabulary, model: str, window: int, sample: float,
    streams: Streams, *, max_length: int, width: int, chunk_rows: int = CHUNK_ROWS,
    block_tokens: int = BLOCK_TOKENS, shuffle_sentences: bool = True,
) -> Iterator[Group]:  # fmt: skip
    """One epoch's groups, exactly :func:`reference_groups`'s, made ``block_tokens`` words
    (whole sentences) at a time with whole-array operations.

    Per block: the subsampling mask and the window sizes of all its words at once; each kept
    word's reach to the left and right (``L = min(b, i - piece start)``, ``R = min(b, piece end
    - 1 - i)``), hence its rows and each sentence's; the groups' ends by a search in the
    sentences' cumulative rows; then each group's rows from ``(ids, L, R)`` (NumPy or the
    compiled loops). Words of a group that is still open at a block's end are carried over.
    The rows' ids are int32 (the corpus's ids are uint16 or int32): half the memory of int64
    for the groups in flight.
    """
    keep_p = vocab.keep_probabilities(sample) if sample > 0 else None
    cbow = model == "cbow"
    carry: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (ids, L, R) of the open group
    carry_rows, carry_consumed = 0, 0
    order = streams.sentence_order(len(encoded)) if shuffle_sentences else None
    for ids, local in _sentence_blocks(encoded, order, block_tokens):
        if keep_p is not None:
            kept = streams.subsample.random(ids.size) < keep_p[ids]
            ids = ids[kept]
            before = np.zeros(kept.size + 1, np.int64)
            np.cumsum(kept, out=before[1:])
            starts = before[local]  # each sentence's first kept word
        else:
            starts = local
        b = window_sizes(streams.windows.random(ids.size), window)
        left, right = _reach(b, starts, max_length)
        per_word = (left + right > 0) if cbow else left + right
        word_rows = np.zeros(ids.size + 1, np.int64)
        np.cumsum(per_word, out=word_rows[1:])
        # rows of the open group (the carried ones too) up to the end of each sentence
        cum = carry_rows + word_rows[starts[1:]]
        base, g_start, done = 0, 0, 0  # rows before the open group; its first word, sentence
        while (end := int(np.searchsorted(cum, base + chunk_rows, "left"))) < cum.size:
            g_stop = int(starts[end + 1])  # the group ends with sentence `end`
            consumed = carry_consumed + int(local[end + 1] - local[done])
            parts = [*carry, (ids[g_start:g_stop], left[g_start:g_stop], right[g_start:g_stop])]
            yield consumed, _group(parts, cbow, width, streams)
            carry, carry_consumed = [], 0
            base, g_start, done = int(cum[end]), g_stop, end + 1
        if g_start < ids.size:
            carry.append((ids[g_start:], left[g_start:], right[g_start:]))
        carry_rows = int(cum[-1]) - base
        carry_consumed += int(local[-1] - local[done])
    if carry_rows:
        yield carry_consumed, _group(carry, cbow, width, streams)
    elif carry_consumed:
        yield carry_consumed, ()


def _sentence_blocks(
    encoded: EncodedCorpus, order: SentenceOrder | None, block_tokens: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Whole sentences, in ``order`` (None: as stored), about ``block_tokens`` ids at a time:
    their ids (int32, one after the other) and where each starts (one more than the
    sentences, from 0). A block holds at least ``block_tokens`` ids (the last one fewer; one
    sentence longer than that is a block of its own)."""
    offsets = encoded.offsets
    if order is None:
        for first, stop in encoded.blocks(block_tokens):
            off = offsets[first : stop + 1]
            yield np.asarray(encoded.tokens[off[0] : off[-1]], dtype=np.int32), off - off[0]
        return
    n, at, look = order.size, 0, 1024  # look: sentences examined for the next block
    ahead, ahead_at = np.zeros(0, np.int64), 0  # order[ahead_at:...], computed once each
    while at < n:
        while True:
            if at + look > ahead_at + ahead.size and ahead_at + ahead.size < n:
                more = order[ahead_at + ahead.size : at + max(look, _ORDER_AHEAD)]
                ahead, ahead_at = np.concatenate((ahead[at - ahead_at :], more)), at
            chosen = ahead[at - ahead_at : at - ahead_at + look]
            lengths = offsets[chosen + 1] - offsets[chosen]
            ends = np.cumsum(lengths)
            if ends[-1] >= block_tokens or at + look >= n:
                break
            look *= 2
        k = min(int(np.searchsorted(ends, block_tokens, "left")) + 1, chosen.size)
        local = np.zeros(k + 1, np.int64)
        local[1:] = ends[:k]
        # each id's position in the corpus: its sentence's start, plus its rank in the block
        # minus its sentence's start in the block
        where = np.repeat(offsets[chosen[:k]] - local[:-1], lengths[:k])
        where += np.arange(local[-1], dtype=np.int64)
        yield np.asarray(encoded.tokens[where], dtype=np.int32), local
        at, look = at + k, max(1024, 2 * k)


def _reach(b: np.ndarray, starts: np.ndarray, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Each kept word's context words to the left and to the right within its piece."""
    n = b.size
    lengths = np.diff(starts)
    first = np.repeat(starts[:-1], lengths)  # the word's sentence's first word
    last = np.repeat(starts[1:], lengths)  # ...and one past its last
    at = np.arange(n, dtype=np.int64)
    piece = first + (at - first) // max_length * max_length
    left = np.minimum(b, at - piece)
    right = np.minimum(b, np.minimum(piece + max_length, last) - 1 - at)
    return left, right


def _group(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], cbow: bool, width: int,
    streams: Streams,
) -> tuple[np.ndarray, ...]:  # fmt: skip
    """A group's rows, shuffled."""
    if len(parts) == 1:
        ids, left, right = parts[0]
    else:
        ids, left, right = (np.concatenate(column) for column in zip(*parts))
    ids = np.ascontiguousarray(ids)
    left, right = np.ascontiguousarray(left), np.ascontiguousarray(right)
    arrays = cbow_rows(ids, left, right, width) if cbow else skipgram_rows(ids, left, right)
    return _shuffle_together(arrays, streams.shuffle)


def _shuffle_together(arrays: tuple[np.ndarray, ...], gen: np.random.Generator) -> tuple:
    """The rows of ``arrays`` shuffled in place by one permutation: each array shuffled from
    the same state of ``gen``, which draws the swaps of ``gen.permutation(n)`` (Fisher-Yates,
    one draw per row), so that this equals ``a[gen.permutation(n)]`` for each, without the
    permutation and the copies (a group's 100k pairs: 4 MB less at its peak)."""
    state = gen.bit_generator.state
    for a in arrays:
        gen.bit_generator.state = state
        gen.shuffle(a)
    return arrays


def skipgram_rows(ids: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(centers, contexts)``: word ``t``'s pairs with ``t - left[t] .. t + right[t]`` (not
    ``t``), word by word, contexts in order (compiled when the kernels are on)."""
    count_ = left + right
    total = int(count_.sum())
    k = _numba.kernels(_KERNELS)
    if k is not None:
        centers, contexts = np.empty(total, ids.dtype), np.empty(total, ids.dtype)
        k.skipgram_rows(ids, left, right, centers, contexts)
        return centers, contexts
    word = np.repeat(np.arange(ids.size, dtype=np.int64), count_)
    first = np.cumsum(count_) - count_
    j = np.arange(total, dtype=np.int64) - first[word]  # the pair's rank among its word's
    lw = left[word]
    j += word - lw + (j >= lw)
    return ids[word], ids[j]


def cbow_rows(
    ids: np.ndarray, left: np.ndarray, right: np.ndarray, width: int
) -> tuple[np.ndarray, ...]:
    """``(centers, contexts, mask)``: one row per word with a context word (compiled when the
    kernels are on); see :func:`reference_groups` for the slots."""
    rows = np.flatnonzero(left + right > 0)
    k = _numba.kernels(_KERNELS)
    if k is not None:
        contexts = np.zeros((rows.size, 2 * width), ids.dtype)
        mask = np.zeros((rows.size, 2 * width), bool)
        k.cbow_rows(ids, left, right, rows, width, contexts, mask)
        return ids[rows], contexts, mask
    offsets = np.concatenate((np.arange(-width, 0), np.arange(1, width + 1)))
    mask = (offsets >= -left[rows, None]) & (offsets <= right[rows, None])
    at = rows[:, None] + offsets
    np.clip(at, 0, max(ids.size - 1, 0), out=at)
    contexts = np.where(mask, ids[at], 0)
    return ids[rows], contexts, mask
