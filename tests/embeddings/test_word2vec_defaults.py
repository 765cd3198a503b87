"""word2vec's defaults on corpora unlike the benchmark's: a small vocabulary, where every word
appears many times in each batch (issue 14.1), and training that diverges (a clear error)."""

from __future__ import annotations

import numpy as np
import pytest

from sinapsi.embeddings import Vocabulary, train_word2vec
from sinapsi.embeddings.word2vec import PAIRS_IN_FLIGHT, default_batch_size

TOPICS, WORDS_PER_TOPIC = 4, 22


def topic_corpus(n_sentences: int, length: int = 20, seed: int = 0) -> list[list[str]]:
    """4 topics of 22 words; each sentence draws ``length`` words of one topic, uniformly."""
    rng = np.random.default_rng(seed)
    vocab = [[f"t{t}w{i}" for i in range(WORDS_PER_TOPIC)] for t in range(TOPICS)]
    sentences = []
    for t in rng.integers(TOPICS, size=n_sentences):
        sentences.append([vocab[t][i] for i in rng.integers(WORDS_PER_TOPIC, size=length)])
    return sentences


def topic_purity(words: list[str], vectors: np.ndarray) -> float:
    """The fraction of words whose nearest neighbour (cosine) is of their own topic."""
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = v @ v.T
    np.fill_diagonal(cos, -np.inf)
    topic = np.array([w.split("w")[0] for w in words])
    return float((topic[cos.argmax(axis=1)] == topic).mean())


@pytest.fixture(scope="module")
def corpus() -> list[list[str]]:
    return topic_corpus(5000)  # 100k words, 88 distinct


def test_defaults_learn_a_small_vocabulary_as_gensim(corpus):
    """With 88 words, a batch of 4096 pairs used each word ~50 times as input and ~280 times as
    output: the summed steps overshot, the vectors went NaN (purity 0.25, chance)."""
    gensim_models = pytest.importorskip("gensim.models")
    hp = dict(window=5, negative=5, min_count=5, epochs=5, seed=0)
    g = gensim_models.Word2Vec(corpus, vector_size=50, sg=1, workers=1, **hp)
    reference = topic_purity(list(g.wv.index_to_key), g.wv.vectors)
    kv = train_word2vec(corpus, model="skipgram", dim=50, **hp)
    assert np.isfinite(kv.vectors).all()
    ours = topic_purity(kv.words, kv.vectors)
    assert reference >= 0.9 and ours >= 0.9, (ours, reference)


def test_default_batch_adapts_to_the_vocabulary(corpus):
    small = Vocabulary.build(corpus, min_count=5)
    assert len(small) == 88
    batch = default_batch_size(small, sample=1e-3, workers=1)
    assert 256 <= batch <= 1024  # about 10 uses of each word per batch
    assert default_batch_size(small, sample=1e-3, workers=2) == batch // 2
    # a large, Zipf-like vocabulary keeps the 4096 pairs in flight that were measured on head500
    counts = (1e6 / np.arange(1, 8001)).astype(np.int64) + 5
    big = Vocabulary([f"w{i}" for i in range(8000)], counts)
    assert default_batch_size(big, sample=1e-3, workers=1) == PAIRS_IN_FLIGHT
    assert default_batch_size(big, sample=1e-3, workers=2) == PAIRS_IN_FLIGHT // 2
    # one word: a batch of a few pairs, never 0
    assert default_batch_size(Vocabulary(["a"], [50]), sample=0, workers=4) >= 1


def test_divergence_is_an_error_naming_the_epoch():
    corpus = topic_corpus(1000, length=10)
    with pytest.raises(FloatingPointError, match=r"word2vec diverged in epoch \d+ of 3.*lr"):
        train_word2vec(corpus, dim=50, lr=1.0, epochs=3, sample=0, batch_size=4096, seed=0)


def test_progress_bar_shows_a_running_loss_from_the_first_batches(monkeypatch):
    """The bar showed loss=0.0000 through epoch 1: its loss was set only at the end of a chunk
    of 100k pairs, before that chunk's last batch, from the batches trained so far: none when
    the chunk (a small corpus's whole epoch) is one batch."""
    import tqdm.auto

    import sinapsi.embeddings.word2vec as w2v

    events: list = []

    class Bar(tqdm.auto.tqdm):
        def set_postfix(self, *args, **kwargs):
            events.append(kwargs)
            return super().set_postfix(*args, **kwargs)

    def step(*args, **kwargs):
        events.append("step")
        return sparse_step(*args, **kwargs)

    sparse_step = w2v.sparse_step
    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    monkeypatch.setattr(w2v, "sparse_step", step)
    for batch_size in (64, 100_000):  # many batches an epoch; one
        events.clear()
        train_word2vec(topic_corpus(300, length=10), dim=8, epochs=2, batch_size=batch_size,
                       seed=0, verbose=1)  # fmt: skip
        shown = [e for e in events if e != "step"]
        assert events[:2] == ["step", shown[0]]  # right after the first batch
        assert shown[0]["epoch"] == 1 and float(shown[0]["loss"]) > 2  # 6 log 2 = 4.2 at first
        assert all(float(s["loss"]) > 0 for s in shown)
        assert {s["epoch"] for s in shown} == {1, 2}
