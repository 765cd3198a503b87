"""Word2Vec, gensim's class (issue 19): its defaults, vocabulary and attributes equal gensim's
on lee_background, and a continued training trains the new words and keeps the old rows."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

gensim_models = pytest.importorskip("gensim.models")
from gensim.test.utils import datapath  # noqa: E402
from gensim.utils import simple_preprocess  # noqa: E402

from sinapsi.embeddings import Word2Vec  # noqa: E402

SHARED = ("vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed",
          "workers", "min_alpha", "sg", "hs", "negative", "epochs", "compute_loss")  # fmt: skip


def _counts(g):
    return [g.wv.get_vecattr(w, "count") for w in g.wv.index_to_key]


@pytest.fixture(scope="module")
def lee():
    with open(datapath("lee_background.cor"), encoding="utf-8") as f:
        return [simple_preprocess(line) for line in f]


def test_the_constructor_defaults_are_gensims():
    ours = inspect.signature(Word2Vec).parameters
    theirs = inspect.signature(gensim_models.Word2Vec).parameters
    assert list(ours)[:2] == ["sentences", "corpus_file"] == list(theirs)[:2]
    for name in SHARED:
        assert ours[name].default == theirs[name].default, name
    model, g = Word2Vec(), gensim_models.Word2Vec()
    for name in SHARED:
        assert getattr(model, name) == getattr(g, name), name


@pytest.mark.parametrize(
    "settings", [{}, {"min_count": 1}, {"min_count": 1, "max_vocab_size": 500}, {"min_count": 12}]
)
def test_vocabulary_and_attributes_equal_gensims_on_lee_background(lee, settings):
    ours = Word2Vec(**settings)
    ours.build_vocab(lee)
    g = gensim_models.Word2Vec(**settings)
    g.build_vocab(lee)
    assert ours.wv.index_to_key == g.wv.index_to_key  # ties in count: gensim's order too
    assert ours.wv.key_to_index == g.wv.key_to_index
    np.testing.assert_array_equal(ours.counts, _counts(g))
    assert (ours.corpus_count, ours.corpus_total_words) == (g.corpus_count, g.corpus_total_words)
    assert ours.wv.vectors.shape == g.wv.vectors.shape == ours.syn1neg.shape == g.syn1neg.shape
    bound = 1 / ours.vector_size  # gensim 4's init: uniform in +-1/dim, output vectors zero
    assert np.abs(ours.wv.vectors).max() <= bound and not ours.syn1neg.any()
    counts = ours.counts
    assert (np.diff(counts) <= 0).all() and (counts[:-1] == counts[1:]).any()  # ties exist


def test_an_update_adds_words_and_counts_as_gensims(lee):
    more = [["Advanced", "users", "can", "load", "a", "model", "and", "continue"]] * 6
    more += [["training", "it", "with", "more", "sentences"]] * 2
    ours = Word2Vec(min_count=3)
    g = gensim_models.Word2Vec(min_count=3)
    for model in (ours, g):
        model.build_vocab(lee[:100])
        old = list(model.wv.index_to_key)
        model.build_vocab(more, update=True)
    assert ours.wv.index_to_key == g.wv.index_to_key
    assert ours.wv.index_to_key[: len(old)] == old  # the new words come after, in no new order
    assert ours.wv.index_to_key[len(old) :] == ["Advanced", "users", "load", "a", "model"]
    np.testing.assert_array_equal(ours.counts, _counts(g))
    assert ours.corpus_count == g.corpus_count == 8


def test_continued_training_trains_the_new_words_and_keeps_the_old_rows(lee):
    model = Word2Vec(lee[:150], min_count=3, sg=1, workers=1, epochs=2, vector_size=20)
    before_words = list(model.wv.index_to_key)
    before = model.wv.vectors.copy()
    more = [["zorblax", "quantum", "frobnicate", "police", "zorblax", "quantum"]] * 10
    model.build_vocab(more, update=True)
    new = ["zorblax", "quantum", "frobnicate"]
    assert model.wv.index_to_key == before_words + new
    initial = model.wv.vectors[len(before_words):].copy()
    seen = model.wv.vectors  # the same array is trained in place
    pairs, words = model.train(more, total_examples=model.corpus_count, epochs=model.epochs)
    assert pairs > 0 and words == 60
    assert model.wv.vectors is seen
    after = model.wv.vectors
    assert not np.allclose(after[len(before_words):], initial)  # the new words were trained
    police = model.wv.key_to_index["police"]
    assert not np.array_equal(after[police], before[police])  # an old word of the new corpus
    untouched = [i for i, w in enumerate(before_words) if w != "police"]
    np.testing.assert_array_equal(after[untouched], before[untouched])  # the other old rows
    assert model.wv.most_similar("zorblax", topn=1)[0][0] in ("quantum", "frobnicate", "police")


def test_the_same_seed_trains_the_same_vectors_with_one_worker(lee):
    a = Word2Vec(lee[:60], min_count=2, workers=1, epochs=1, seed=7)
    b = Word2Vec(lee[:60], min_count=2, workers=1, epochs=1, seed=7)
    c = Word2Vec(lee[:60], min_count=2, workers=1, epochs=1, seed=8)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)
    assert a.get_latest_training_loss() > 0


def test_gensims_mistakes_are_refused_as_gensim_refuses_them(lee):
    model = Word2Vec(min_count=1)
    with pytest.raises(RuntimeError, match="call build_vocab"):
        model.train(lee[:5], total_examples=5, epochs=1)
    with pytest.raises(RuntimeError, match="needs a vocabulary"):
        model.build_vocab(lee[:5], update=True)
    model.build_vocab(lee[:5])
    with pytest.raises(ValueError, match="explicit epochs"):
        model.train(lee[:5], total_examples=5)
    with pytest.raises(ValueError, match="total_examples"):
        model.train(lee[:5], epochs=1)
    with pytest.raises(TypeError, match="unexpected argument 'colour'"):
        model.train(lee[:5], total_examples=5, epochs=1, colour=1)
    with pytest.raises(ValueError, match="trim_rule is not supported"):
        model.build_vocab(lee[:5], trim_rule=lambda *a: 1)
    with pytest.raises(ValueError, match="sg must be 1"):
        Word2Vec(sg=3)
    with pytest.raises(ValueError, match="min_count=50 leaves no words"):
        Word2Vec(lee[:2], min_count=50)
    with pytest.raises(TypeError, match="one-shot iterator"):
        Word2Vec(iter(lee[:5]))


def test_corpus_file_reads_as_gensims(lee, tmp_path):
    path = tmp_path / "lee.txt"
    path.write_text("\n".join(" ".join(s) for s in lee[:120]) + "\n", encoding="utf-8")
    ours = Word2Vec(min_count=2)
    ours.build_vocab(corpus_file=str(path))
    g = gensim_models.Word2Vec(min_count=2)
    g.build_vocab(corpus_file=str(path))
    assert ours.wv.index_to_key == g.wv.index_to_key
    assert (ours.corpus_count, ours.corpus_total_words) == (g.corpus_count, g.corpus_total_words)
    model = Word2Vec(corpus_file=path, min_count=2, epochs=1, workers=1)
    assert model.wv.index_to_key == g.wv.index_to_key and model.running_training_loss > 0
