"""word2vec's chunked pipeline (sinapsi.embeddings.pipeline): the same groups as the sentence by
sentence reference, in NumPy and compiled; the window and subsampling distributions."""

from __future__ import annotations

import numpy as np
import pytest

from sinapsi import _numba
from sinapsi.embeddings import Vocabulary
from sinapsi.embeddings.encoding import EncodedCorpus
from sinapsi.embeddings.pipeline import (
    Streams,
    _reach,
    cbow_rows,
    chunk_groups,
    reference_groups,
    skipgram_rows,
    window_sizes,
)

MAX_LENGTH = 7  # pieces of at most 7 words: the 20-word sentence is cut in 3


def _corpus(seed: int = 0) -> tuple[Vocabulary, EncodedCorpus]:
    """Sentences of 0, 1, 2, 3, ... 20 words (ids Zipf-like over 30 words), shuffled."""
    rng = np.random.default_rng(seed)
    lengths = [0, 1, 2, 3, 20, 5, 1, 0, 2, 9, 7, 8, 14, 4, 6] * 3
    rng.shuffle(lengths)
    counts = (3000 / np.arange(1, 31)).astype(np.int64)
    vocab = Vocabulary([f"w{i}" for i in range(30)], counts)
    p = counts / counts.sum()
    sentences = [rng.choice(30, size=n, p=p) for n in lengths]
    return vocab, EncodedCorpus.from_ids(sentences)


def _groups(fn, encoded, vocab, model, window, sample, seed, **kwargs):
    streams = Streams.spawn(np.random.default_rng(seed))
    width = min(window, MAX_LENGTH - 1)
    out = []
    for _epoch in range(2):  # the streams go on from one epoch to the next
        out += list(fn(encoded, vocab, model, window, sample, streams, max_length=MAX_LENGTH,
                       width=width, **kwargs))  # fmt: skip
    return out


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
@pytest.mark.parametrize("sample", [0.0, 0.02])
@pytest.mark.parametrize("chunk_rows", [1, 17, 10**6])
def test_chunked_groups_equal_the_reference(model, sample, chunk_rows, kernels):
    vocab, encoded = _corpus()
    window = 3
    expect = _groups(reference_groups, encoded, vocab, model, window, sample, 5,
                     chunk_rows=chunk_rows)  # fmt: skip
    rows = sum(len(g[0]) for _, g in expect if g)
    assert rows > 200 and sum(c for c, _ in expect) == 2 * encoded.offsets[-1]
    if chunk_rows == 17:
        assert len(expect) > 10
    for block_tokens in (1, 5, 13, 10**6):  # a block's nominal end inside and between sentences
        got = _groups(chunk_groups, encoded, vocab, model, window, sample, 5,
                      chunk_rows=chunk_rows, block_tokens=block_tokens)  # fmt: skip
        assert len(got) == len(expect)
        for (c1, g1), (c2, g2) in zip(got, expect):
            assert c1 == c2 and len(g1) == len(g2) in ((3 if model == "cbow" else 2), 0)
            for a, b in zip(g1, g2):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)


def test_pairs_stay_in_pieces_and_subsampling_drops_words():
    """With a window of 10**9 (every drawn size > 6), the words of each piece of 7 pair up
    with each other, and with no other word: n (n - 1) pairs a piece, twice (2 epochs)."""
    vocab, encoded = _corpus()
    groups = _groups(chunk_groups, encoded, vocab, "skipgram", 10**9, 0.0, 1)
    pairs = sum(len(g[0]) for _, g in groups if g)
    sizes = [min(MAX_LENGTH, n - i) for n in np.diff(encoded.offsets) for i in range(0, n, 7)]
    assert max(sizes) == MAX_LENGTH and pairs == 2 * sum(n * (n - 1) for n in sizes)
    fewer = _groups(chunk_groups, encoded, vocab, "skipgram", 10**9, 0.02, 1)
    assert 0 < sum(len(g[0]) for _, g in fewer if g) < pairs * 0.8


def test_window_sizes_are_uniform():
    """Chi-square of 60k sizes for window 5 against uniform on 1..5 (p ~ 1e-4 of failing)."""
    window, n = 5, 60_000
    b = window_sizes(np.random.default_rng(0).random(n), window)
    assert b.min() == 1 and b.max() == window
    observed = np.bincount(b, minlength=window + 1)[1:]
    chi2 = float(((observed - n / window) ** 2 / (n / window)).sum())
    assert chi2 < 23.5  # the 99.99% quantile of chi-square with 4 degrees of freedom
    assert window_sizes(np.array([0.0, 1 - 2**-53]), 3).tolist() == [1, 3]


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_window_sizes_in_the_pairs_are_uniform(model, kernels):
    """Each word's reach in one long sentence (no piece cut): offsets at distance d occur
    with probability (window - d + 1) / window."""
    window, n = 4, 40_000
    vocab = Vocabulary([f"w{i}" for i in range(n)], np.ones(n, np.int64))
    encoded = EncodedCorpus.from_ids([np.arange(n)])
    streams = Streams.spawn(np.random.default_rng(3))
    ((_, group),) = chunk_groups(encoded, vocab, model, window, 0.0, streams, max_length=10**6,
                                 width=window, chunk_rows=10**9)  # fmt: skip
    if model == "skipgram":
        d = np.abs(group[0] - group[1])
        counts = np.bincount(d, minlength=window + 1)[1:] / (2 * n)
    else:
        counts = group[2].sum(axis=0)[window:] / n
    expect = (window - np.arange(window)) / window
    np.testing.assert_allclose(counts, expect, atol=0.01)  # ~4.5 standard errors


def test_subsampling_keeps_words_at_keep_probabilities(kernels):
    """Every kept word of a 50-word sentence is the center of one CBOW row: the fraction of
    each word's 4000 occurrences kept is its keep probability (binomial: 4.4 sd at most)."""
    vocab, _ = _corpus()
    keep = vocab.keep_probabilities(0.005)
    assert keep.min() < 0.3 and keep.max() == 1.0
    ids = np.random.default_rng(1).permutation(np.repeat(np.arange(30), 4000))
    encoded = EncodedCorpus.from_ids([ids[i : i + 50] for i in range(0, ids.size, 50)])
    streams = Streams.spawn(np.random.default_rng(4))
    kept = np.zeros(30)
    for _, (centers, _contexts, _mask) in chunk_groups(
        encoded, vocab, "cbow", 2, 0.005, streams, max_length=10**6, width=2
    ):
        kept += np.bincount(centers, minlength=30)
    np.testing.assert_allclose(kept / 4000, keep, atol=0.035)
    assert abs(kept.sum() / 4000 - keep.sum()) < 0.3  # 2 sd


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_training_batches_follow_the_reference_with_a_shorter_max_length(
    monkeypatch, model, kernels
):
    """word2vec's own stream (_batches: token lists in, batches out) cuts sentences at
    MAX_SENTENCE_LENGTH as set at the time, and gives the reference's rows, batch by batch."""
    import sinapsi.embeddings.word2vec as w2v

    monkeypatch.setattr(w2v, "MAX_SENTENCE_LENGTH", MAX_LENGTH)
    vocab, encoded = _corpus(1)
    sentences = [[vocab.words[i] for i in encoded.sentence(s)] for s in range(len(encoded))]
    got = list(w2v._batches(sentences, vocab, model, 4, 0.02, 30, np.random.default_rng(8),
                            chunk_words=40))  # fmt: skip
    streams = Streams.spawn(np.random.default_rng(8))
    width = w2v._window_width(vocab, 4)
    assert width == 4
    groups = reference_groups(encoded, vocab, model, 4, 0.02, streams, max_length=MAX_LENGTH,
                              width=width, chunk_rows=40)  # fmt: skip
    expect = list(w2v._split(groups, 30))
    assert len(got) == len(expect) > 5
    for (c1, b1), (c2, b2) in zip(got, expect):
        assert c1 == c2 and len(b1) == len(b2)
        for a, b in zip(b1, b2):
            np.testing.assert_array_equal(a, b)


def test_compiled_rows_equal_numpy_rows():
    """The numba loops and their NumPy twins give the same arrays, bit for bit."""
    if not _numba.available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(0)
    _, encoded = _corpus(2)
    ids = np.asarray(encoded.tokens, dtype=np.int64)
    starts = encoded.offsets
    b = rng.integers(1, 5, ids.size)
    left, right = _reach(b, starts, MAX_LENGTH)
    assert left.max() == 4 and (left == 0).any()
    for fn, args in ((skipgram_rows, ()), (cbow_rows, (4,))):
        with _numba.use_kernels(True):
            compiled = fn(ids, left, right, *args)
        with _numba.use_kernels(False):
            numpy = fn(ids, left, right, *args)
        for a, c in zip(numpy, compiled):
            assert a.dtype == c.dtype and a.size > 100
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_in_order_groups_equal_the_in_order_reference(model, kernels):
    """shuffle_sentences=False: the sentences as stored, in both paths."""
    vocab, encoded = _corpus(3)
    expect = _groups(reference_groups, encoded, vocab, model, 3, 0.02, 6, chunk_rows=17,
                     shuffle_sentences=False)  # fmt: skip
    for block_tokens in (1, 13, 10**6):
        got = _groups(chunk_groups, encoded, vocab, model, 3, 0.02, 6, chunk_rows=17,
                      block_tokens=block_tokens, shuffle_sentences=False)  # fmt: skip
        assert len(got) == len(expect) > 10
        for (c1, g1), (c2, g2) in zip(got, expect):
            assert c1 == c2
            for a, b in zip(g1, g2):
                np.testing.assert_array_equal(a, b)


def test_each_epoch_visits_every_sentence_once_in_a_new_order():
    """With a group per sentence (chunk_rows=1), the groups' words are the sentences' lengths
    in the epoch's order: a permutation of all of them, another one each epoch, as drawn by
    Streams.sentence_order."""
    vocab, encoded = _corpus(4)
    lengths = np.diff(encoded.offsets)
    streams = Streams.spawn(np.random.default_rng(9))
    twin = Streams.spawn(np.random.default_rng(9))
    orders = []
    for _epoch in range(2):
        order = twin.sentence_order(len(encoded))
        assert sorted(order.tolist()) == list(range(len(encoded)))
        groups = list(chunk_groups(encoded, vocab, "skipgram", 2, 0.0, streams, max_length=50,
                                   width=2, chunk_rows=1, block_tokens=8))  # fmt: skip
        # a sentence of one word gives no pair: its words count with the next group's
        consumed = [c for c, _ in groups]
        assert sum(consumed) == lengths.sum()
        ends = np.cumsum(lengths[order])[lengths[order] > 1]
        assert np.cumsum(consumed)[:-1].tolist() == ends[:-1].tolist()
        orders.append(order)
    assert orders[0].tolist() != orders[1].tolist()


def test_shuffled_sentences_spread_a_burst_over_the_groups():
    """A word that fills 40 consecutive sentences of 1000 (a page on one topic) lands in one
    or two groups when the sentences come in order, and in nearly every group when shuffled:
    no batch then sums dozens of its steps (see the module docstring)."""
    rng = np.random.default_rng(0)
    sentences = [rng.integers(1, 500, 10) for _ in range(1000)]
    for s in sentences[300:340]:
        s[::2] = 0  # word 0, five times in each of these 40 sentences
    vocab = Vocabulary([f"w{i}" for i in range(500)], np.full(500, 20, np.int64))
    encoded = EncodedCorpus.from_ids(sentences)

    def per_group(shuffle: bool) -> np.ndarray:
        streams = Streams.spawn(np.random.default_rng(1))
        groups = chunk_groups(encoded, vocab, "skipgram", 2, 0.0, streams, max_length=50,
                              width=2, chunk_rows=1000, shuffle_sentences=shuffle)  # fmt: skip
        return np.array([int((g[0] == 0).sum()) for _, g in groups if g])

    in_order, shuffled = per_group(False), per_group(True)
    assert in_order.sum() > 400 and abs(shuffled.sum() - in_order.sum()) < 0.15 * in_order.sum()
    assert (in_order > 0).sum() <= 2 and in_order.max() > 0.45 * in_order.sum()
    # 40 sentences over 26 groups: a uniformly random order leaves ~21% of the groups without
    # one (5th percentile of the share with one: 0.69, over 300 seeds; the same for this order)
    assert (shuffled > 0).sum() >= 0.65 * shuffled.size and shuffled.max() < 0.15 * shuffled.sum()


@pytest.mark.parametrize("n", [1, 2, 5, 1000, 4097])
def test_the_sentence_order_is_a_permutation_computed_in_slices(n):
    """Any slicing of the order gives the same positions as the whole; the whole is a
    permutation of [0, n) (the cycle-walking keeps the Feistel network's images below n)."""
    order = Streams.spawn(np.random.default_rng(n)).sentence_order(n)
    whole = np.asarray(order)
    assert sorted(whole.tolist()) == list(range(n)) and len(order) == n
    cuts = np.unique(np.random.default_rng(0).integers(0, n + 1, 7).tolist() + [0, n])
    parts = [order[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert order[n : n + 5].size == 0


def test_the_sentence_order_looks_uniformly_shuffled():
    """Like a uniform permutation: no link between a position and its sentence, nor between
    neighbours; another seed, another order."""
    n = 20_000
    a = np.asarray(Streams.spawn(np.random.default_rng(1)).sentence_order(n))
    b = np.asarray(Streams.spawn(np.random.default_rng(2)).sentence_order(n))
    assert abs(np.corrcoef(np.arange(n), a)[0, 1]) < 0.03
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.03
    assert (np.abs(np.diff(a)) == 1).mean() < 0.001  # a uniform one: 2 / n
    assert (a == b).mean() < 0.01  # a uniform pair: 1 / n
    # each tenth of the positions takes about a tenth of every tenth of the sentences
    table = np.histogram2d(np.arange(n), a, bins=10)[0]
    assert np.abs(table - n / 100).max() < 0.25 * n / 100
