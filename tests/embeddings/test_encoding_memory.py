"""The encoder's memory savings keep its results: provisional ids past 65,534 kept as uint16 plus
a list of the escaped ones, int32 offsets in memory, the vocabulary's words made afresh."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi.embeddings.encoding as enc
from sinapsi.embeddings import Vocabulary, read_corpus


@pytest.mark.parametrize("top", [100, 0xFFFF, 0xFFFF + 1, 200_000])
def test_narrow_blocks_give_back_the_ids(top):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, top, 5000).astype(np.int32)
    ids[:3] = [top - 1, 0, min(top - 1, 0xFFFF)]
    block = enc._narrow(ids)
    assert block[0].dtype == np.uint16
    assert (block[1] is None) == (top <= 0xFFFF)  # id 0xFFFF itself is escaped
    np.testing.assert_array_equal(enc._widen(block), ids)
    remap = rng.integers(-1, 50, top).astype(np.int32)
    np.testing.assert_array_equal(enc._remapped(block, remap), remap[ids])


@pytest.fixture(scope="module")
def many_words():
    """70k distinct words seen once (provisional ids past 65,535) in the first 1000 sentences,
    among 300 frequent ones; then 6000 sentences of frequent words."""
    rng = np.random.default_rng(1)
    common = [f"w{i}" for i in range(300)]
    rare = iter(f"r{i}" for i in range(70_000))
    sentences = []
    for k in range(7000):
        s = [common[j] for j in rng.integers(0, 300, 12)]
        if k < 1000:
            s[6:6] = [next(rare) for _ in range(70)]
        sentences.append(s)
    return sentences


# in memory; spilled part way through, after blocks with escaped ids were kept (and widened)
@pytest.mark.parametrize("budget", [None, 500_000])
@pytest.mark.parametrize("min_count", [1, 2])
def test_encoding_past_65535_distinct_words(many_words, tmp_path, monkeypatch, budget, min_count):
    monkeypatch.setattr(enc, "ENCODE_BLOCK", 5000)
    corpus = read_corpus(many_words)
    expect = Vocabulary.build(corpus, min_count=min_count)
    vocab, encoded = enc.encode_corpus(
        corpus, min_count, cache_dir=tmp_path / "c", memory_budget_bytes=budget
    )
    try:
        assert vocab.words == expect.words and vocab.counts.tolist() == expect.counts.tolist()
        spilled, wide = budget is not None, len(vocab) > 1 << 16
        assert encoded.tokens.dtype == (np.int32 if spilled or wide else np.uint16)
        assert encoded.offsets.dtype == (np.int64 if spilled else np.int32)
        for i in [*range(0, 1000, 7), *range(1000, 7000, 97)]:
            np.testing.assert_array_equal(encoded.sentence(i), expect.encode(many_words[i]))
        assert encoded.offsets[-1] == expect.counts.sum()
    finally:
        encoded.close()


def test_vocabulary_words_are_fresh_strings(tmp_path):
    """The vocabulary does not hold the strings of the pass (see encoding._Words)."""
    path = tmp_path / "c.txt"
    path.write_text("the cat sat\nthe dog sat\n" * 3, encoding="utf-8")
    vocab, encoded = enc.encode_corpus(read_corpus(path), 1)
    assert vocab.words == ["sat", "the", "cat", "dog"]
    assert vocab.index == {"sat": 0, "the": 1, "cat": 2, "dog": 3}
    assert vocab.longest_sentence == 3
    assert encoded.offsets.tolist() == [0, 3, 6, 9, 12, 15, 18]
