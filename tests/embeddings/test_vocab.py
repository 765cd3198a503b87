import numpy as np
import pytest

from sinapsi.backend import new_rng
from sinapsi.embeddings import Corpus, Vocabulary, read_corpus, tokenize

SENTENCES = [
    ["the", "cat", "sat", "on", "the", "mat"],
    ["the", "dog", "sat"],
    ["a", "cat", "and", "a", "dog"],
    ["the", "end"],
]


def test_tokenize():
    assert tokenize("Hello, World! It's 2024.") == ["hello", "world", "it's", "2024"]
    assert tokenize("'quoted' -- snake_case ... Ünïcode") == ["quoted", "snake", "case", "ünïcode"]
    assert tokenize("  ...  ") == []
    with pytest.raises(TypeError, match="expects a str, got bytes"):
        tokenize(b"bytes")


def test_read_corpus_file_is_streamed_and_reiterable(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("The cat sat.\n\n!!!\nThe DOG sat\n", encoding="utf-8")
    corpus = read_corpus(path)
    assert isinstance(corpus, Corpus)
    expected = [["the", "cat", "sat"], ["the", "dog", "sat"]]
    assert list(corpus) == expected
    assert list(corpus) == expected  # a second epoch
    assert read_corpus(str(path)).path == path
    assert read_corpus(corpus) is corpus


def test_read_corpus_iterables():
    corpus = read_corpus(["A b, c", ["x", "Y"], ""])
    assert list(corpus) == [["a", "b", "c"], ["x", "Y"]]
    assert list(corpus) == list(corpus)

    class Word(str):
        pass

    assert list(read_corpus([(Word("a"), "b")])) == [["a", "b"]]  # str subclasses are tokens


def test_read_corpus_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="'.*missing.txt' does not exist"):
        read_corpus(tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="one-shot iterator \\(generator\\).*pass a list"):
        read_corpus(s for s in ["a"])
    with pytest.raises(TypeError, match="expects a file path or an iterable.*got int"):
        read_corpus(3)
    with pytest.raises(TypeError, match="sentence 1 of the corpus is a int"):
        list(read_corpus(["ok", 5]))
    with pytest.raises(TypeError, match="sentence 0 of the corpus is a list"):
        list(read_corpus([["a", 5]]))


def test_build_counts_order_and_lookup():
    vocab = Vocabulary.build(SENTENCES, min_count=1)
    # the:4; a, cat, dog, sat: 2 (alphabetical); and, end, mat, on: 1 (alphabetical)
    assert vocab.words == ["the", "a", "cat", "dog", "sat", "and", "end", "mat", "on"]
    assert vocab.counts.dtype == np.int64
    assert vocab.counts.tolist() == [4, 2, 2, 2, 2, 1, 1, 1, 1]
    assert len(vocab) == 9 and "cat" in vocab and "bird" not in vocab
    assert vocab.index["dog"] == 3 and vocab.id("dog") == 3 and vocab.word(3) == "dog"
    assert vocab.encode(["the", "bird", "dog"]).tolist() == [0, 3]
    assert vocab.encode([]).dtype == np.int64


def test_build_is_independent_of_corpus_order():
    a = Vocabulary.build(SENTENCES, min_count=1)
    b = Vocabulary.build(SENTENCES[::-1], min_count=1)
    assert a.words == b.words


def test_min_count_and_max_vocab(tmp_path):
    vocab = Vocabulary.build(SENTENCES, min_count=2)
    assert vocab.words == ["the", "a", "cat", "dog", "sat"]
    vocab = Vocabulary.build(SENTENCES, min_count=1, max_vocab=3)
    assert vocab.words == ["the", "a", "cat"]
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in SENTENCES), encoding="utf-8")
    assert Vocabulary.build(path, min_count=2).words == ["the", "a", "cat", "dog", "sat"]


def test_build_errors():
    with pytest.raises(ValueError, match="the corpus has no words"):
        Vocabulary.build([[], []], min_count=1)
    with pytest.raises(
        ValueError, match="min_count=5 leaves no words.*9 distinct.*highest count is 4"
    ):
        Vocabulary.build(SENTENCES, min_count=5)
    with pytest.raises(ValueError, match="min_count must be >= 1, got 0"):
        Vocabulary.build(SENTENCES, min_count=0)
    with pytest.raises(TypeError, match="min_count must be an int, got 1.5"):
        Vocabulary.build(SENTENCES, min_count=1.5)
    with pytest.raises(ValueError, match="max_vocab must be a positive int or None, got 0"):
        Vocabulary.build(SENTENCES, max_vocab=0)
    with pytest.raises(TypeError, match="token lists, got the str 'the cat'.*read_corpus"):
        Vocabulary.build(["the cat"], min_count=1)


def test_lookup_errors():
    vocab = Vocabulary.build(SENTENCES, min_count=1)
    with pytest.raises(KeyError, match="'bird' is not in the vocabulary"):
        vocab.id("bird")
    with pytest.raises(IndexError, match=r"word id must be an int in \[0, 9\), got 9"):
        vocab.word(9)
    with pytest.raises(TypeError, match="got a str; use tokenize"):
        vocab.encode("the cat")
    with pytest.raises(ValueError, match="one count per word: got 2 words"):
        Vocabulary(["a", "b"], [1])
    with pytest.raises(ValueError, match="unique; repeated: \\['a'\\]"):
        Vocabulary(["a", "a"], [1, 1])
    with pytest.raises(ValueError, match="positive integers"):
        Vocabulary(["a"], [0])


def test_keep_probabilities_formula():
    vocab = Vocabulary(["a", "b", "c"], [900, 90, 10])
    sample = 1e-2
    f = vocab.counts / 1000
    expected = np.minimum((np.sqrt(f / sample) + 1) * sample / f, 1.0)
    np.testing.assert_allclose(vocab.keep_probabilities(sample), expected, rtol=1e-12)
    assert vocab.keep_probabilities(sample)[2] == 1.0  # rare words are always kept
    assert np.all(vocab.keep_probabilities(0) == 1.0)
    with pytest.raises(ValueError, match="sample must be a float in \\[0, 1\\).*got 1.5"):
        vocab.keep_probabilities(1.5)


def test_keep_probabilities_equal_gensim():
    from gensim.models import Word2Vec

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    p = 1.0 / np.arange(1, 61)
    sentences = [list(rng.choice(words, size=20, p=p / p.sum())) for _ in range(300)]
    for sample in (1e-3, 1e-2):
        model = Word2Vec(vector_size=4, min_count=2, sample=sample, workers=1)
        model.build_vocab(sentences)
        vocab = Vocabulary.build(sentences, min_count=2)
        assert sorted(vocab.words) == sorted(model.wv.index_to_key)
        theirs = np.array([model.wv.get_vecattr(w, "sample_int") for w in vocab.words]) / (
            2**32 - 1
        )
        # gensim stores the probability as a uint32 fraction of 2**32 - 1
        np.testing.assert_allclose(vocab.keep_probabilities(sample), theirs, atol=1e-9)
        assert (vocab.keep_probabilities(sample) < 1).any()


def test_subsample_is_seeded_and_matches_probabilities():
    vocab = Vocabulary(["a", "b", "c"], [900, 90, 10])
    ids = np.repeat(np.arange(3), 20000)
    kept = vocab.subsample(ids, new_rng(0), sample=1e-2)
    np.testing.assert_array_equal(kept, vocab.subsample(ids, new_rng(0), sample=1e-2))
    rates = np.bincount(kept, minlength=3) / 20000
    np.testing.assert_allclose(rates, vocab.keep_probabilities(1e-2), atol=0.02)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        vocab.subsample(ids, 0)
    with pytest.raises(IndexError, match=r"word ids must be in \[0, 3\)"):
        vocab.subsample(np.array([3]), new_rng(0))


def test_noise_distribution():
    vocab = Vocabulary(["a", "b"], [16, 1])
    np.testing.assert_allclose(vocab.noise_distribution(), [8 / 9, 1 / 9])
    np.testing.assert_allclose(vocab.noise_distribution(1.0), [16 / 17, 1 / 17])
    with pytest.raises(ValueError, match="power must be a finite float.*got inf"):
        vocab.noise_distribution(float("inf"))
