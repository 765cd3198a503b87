"""word2vec inputs that used to train silently on nothing, crash with a traceback, or ask for
more memory than the machine has (issue 14.10 and the hunt for its class)."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi.embeddings.word2vec as w2v
from sinapsi.embeddings import Vocabulary, cbow_windows, train_word2vec

SMALL = dict(dim=4, epochs=1, seed=0)


@pytest.mark.parametrize(
    ("corpus", "kwargs"),
    [
        ([["a"], ["b"]] * 10, {}),  # no sentence of two words: no pair at all
        ([["a", "b"]] * 5, {"sample": 1e-9}),  # subsampling drops every word
    ],
)
def test_a_corpus_without_training_pairs_is_refused(corpus, kwargs):
    """The vectors came back as their random initialization, silently."""
    with pytest.raises(ValueError, match=r"no training pairs.*fewer than 2 words.*sample"):
        train_word2vec(corpus, min_count=1, **{**SMALL, **kwargs})


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), -1.0, 0, "0.1", None, True])
def test_lr_must_be_a_positive_finite_number(lr):
    with pytest.raises(ValueError, match=r"lr must be a positive, finite number, got"):
        train_word2vec([["a", "b"]] * 5, min_count=1, lr=lr, **SMALL)


def test_beyond_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(w2v, "available_memory", lambda: 1 << 30)
    corpus = [["a", "b", "c"]] * 5
    with pytest.raises(ValueError, match=r"needs about \d+\.\d GB for 3 words x 10000000000 "):
        train_word2vec(corpus, min_count=1, dim=10**10, epochs=1)
    with pytest.raises(ValueError, match=r"one batch of \d+ pairs: \d+\.\d GB.*lower.*--negative"):
        train_word2vec(corpus, min_count=1, dim=4, negative=10**9, epochs=1)
    monkeypatch.setattr(w2v, "available_memory", lambda: None)  # unknown: not checked
    assert train_word2vec(corpus, min_count=1, sample=0, **SMALL).dim == 4


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_a_window_wider_than_every_sentence_costs_no_more(model):
    """CBOW's windows were (n, 2 * window) arrays: window=10**9 asked for terabytes."""
    corpus = [["a", "b", "c", "d"]] * 20
    kv = train_word2vec(corpus, model=model, min_count=1, window=10**9, sample=0, **SMALL)
    assert np.isfinite(kv.vectors).all()


def test_cbow_windows_width():
    ids = [10, 11, 12]
    c, o, m = cbow_windows(ids, window=10**9, dynamic=False, width=2)
    assert o.shape == (3, 4) and c.tolist() == [10, 11, 12]
    assert o[1].tolist() == [0, 10, 12, 0] and m[1].tolist() == [False, True, True, False]
    wide, _, _ = cbow_windows(ids, window=2, dynamic=False)[1:], None, None
    np.testing.assert_array_equal(wide[0], o)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_long_sentences_are_cut_into_pieces(monkeypatch, model):
    """A one-line corpus of 10^6 words made one window of 10^6 words (as many pairs, squared,
    with a wide window); sentences are cut as in word2vec.c and gensim."""
    monkeypatch.setattr(w2v, "MAX_SENTENCE_LENGTH", 10)
    words = [f"w{i:02d}" for i in range(25)]
    vocab = Vocabulary.build([words], min_count=1)
    rng = np.random.default_rng(0)
    ((consumed, batch),) = w2v._batches([words], vocab, model, 10**9, 0.0, 10**6, rng)
    assert consumed == 25
    piece = np.array([int(vocab.words[i][1:]) // 10 for i in range(25)])
    if model == "skipgram":
        centers, contexts = batch
        assert (piece[centers] == piece[contexts]).all() and len(centers) > 0
    else:
        centers, contexts, mask = batch
        assert contexts.shape[1] == 2 * 9  # the offsets within a piece, not 2 * 10**9
        for c, row, m in zip(centers, contexts, mask):
            assert (piece[row[m]] == piece[c]).all()


def test_a_batch_larger_than_a_chunk_is_not_counted_as_allocated(monkeypatch):
    """batch_size=10**12 means 'a whole chunk of shuffled pairs (100k) a step', not 10**12."""
    monkeypatch.setattr(w2v, "available_memory", lambda: 2 << 30)
    kv = train_word2vec([["a", "b", "c"]] * 5, min_count=1, batch_size=10**12, sample=0, **SMALL)
    assert kv.dim == 4


@pytest.mark.parametrize("sample", ["x", None, float("nan"), 1.0, -0.1])
def test_sample_must_be_a_number_in_0_1(sample):
    with pytest.raises(ValueError, match=r"sample must be a float in \[0, 1\).*got"):
        train_word2vec([["a", "b"]] * 5, min_count=1, sample=sample, **SMALL)
