"""train_word2vec with gensim's argument names (issue 19): each alias trains exactly what its
sinapsi name trains, conflicting pairs are refused, hs=1 is refused, min_alpha ends the decay."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi.embeddings.word2vec as w2v
from sinapsi.embeddings import LineSentences, train_word2vec
from sinapsi.embeddings.gensim_names import resolve_gensim_names

SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "a", "log"]]
SENTENCES *= 10
BASE = {"window": 2, "min_count": 1, "sample": 0, "epochs": 1, "seed": 0, "workers": 1}


def _vectors(*args, **kwargs):
    kv = train_word2vec(*args, **{**BASE, **kwargs})
    return kv.words, kv.vectors


@pytest.mark.parametrize(
    ("gensim", "sinapsi"),
    [
        ({"vector_size": 6}, {"dim": 6}),
        ({"sg": 1}, {"model": "skipgram"}),
        ({"sg": 0}, {"model": "cbow"}),
        ({"alpha": 0.05}, {"lr": 0.05}),
        ({"min_alpha": 0.01}, {"min_lr": 0.01}),
        ({"max_vocab_size": 4}, {"max_vocab": 4}),
        ({"hs": 0}, {}),
    ],
)
def test_each_alias_trains_what_its_sinapsi_name_trains(gensim, sinapsi):
    words, vectors = _vectors(sentences=SENTENCES, dim=6, **gensim)
    words_s, vectors_s = _vectors(SENTENCES, **{"dim": 6, **sinapsi})
    assert words == words_s
    np.testing.assert_array_equal(vectors, vectors_s)


def test_the_aliases_change_the_training():
    _, base = _vectors(SENTENCES, dim=6, epochs=2)  # the lr decays between chunks: epochs here
    for changed in ({"sg": 0}, {"alpha": 0.05}, {"min_alpha": 0.02}):
        _, vectors = _vectors(SENTENCES, dim=6, epochs=2, **changed)
        assert not np.array_equal(vectors, base), changed
    assert _vectors(SENTENCES, vector_size=3)[1].shape == (8, 3)
    assert _vectors(SENTENCES, max_vocab_size=2)[0] == ["the", "on"]


def test_the_default_model_stays_skipgram_with_gensim_names():
    np.testing.assert_array_equal(
        _vectors(sentences=SENTENCES, vector_size=6)[1],
        _vectors(SENTENCES, dim=6, model="skipgram")[1],
    )


def test_corpus_file_is_read_as_gensims_line_sentence(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in SENTENCES).replace("cat", "Cat,") + "\n")
    words, vectors = _vectors(corpus_file=path, dim=4)
    assert "Cat," in words and "cat" not in words  # split on whitespace, kept as they are
    words_t, _ = _vectors(path, dim=4)  # a path as corpus: sinapsi's tokenizer
    assert "cat" in words_t and "Cat," not in words_t
    lines = [line.split() for line in path.read_text().splitlines()]
    assert list(LineSentences(path)) == lines
    words_l, vectors_l = _vectors(lines, dim=4)
    assert words == words_l
    np.testing.assert_array_equal(vectors, vectors_l)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dim": 5, "vector_size": 6}, r"vector_size=6 \(gensim's name for dim\) and dim=5 disa"),
        ({"model": "skipgram", "sg": 0}, r"sg=0 .*model='skipgram' disagree"),
        ({"lr": 0.1, "alpha": 0.2}, r"alpha=0.2 .* and lr=0.1 disagree"),
        ({"min_lr": 0.0, "min_alpha": 0.001}, r"min_alpha=0.001 .* min_lr=0.0 disagree"),
        ({"max_vocab": 3, "max_vocab_size": 4}, r"max_vocab_size=4 .* max_vocab=3 disagree"),
        ({"hs": 1}, r"hs=1 is not supported: .*no hierarchical softmax"),
        ({"hs": True}, r"hs=True is not supported"),
        ({"sg": 2}, r"sg must be 1 \(skip-gram\) or 0 \(CBOW\), got 2"),
        ({"min_lr": -1.0}, r"min_lr must be a number >= 0 or None, got -1.0"),
    ],
)
def test_conflicts_and_unsupported_values_are_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        train_word2vec(SENTENCES, **{**BASE, **kwargs})
    assert "\n" not in str(info.value)


def test_the_same_value_under_both_names_is_accepted():
    words, vectors = _vectors(SENTENCES, dim=6, vector_size=6, model="cbow", sg=0, lr=0.025)
    np.testing.assert_array_equal(vectors, _vectors(SENTENCES, dim=6, model="cbow")[1])


def test_the_corpus_given_twice_or_not_at_all_is_refused(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b c\n")
    with pytest.raises(ValueError, match="sentences or corpus_file, not both"):
        train_word2vec(sentences=SENTENCES, corpus_file=path)
    with pytest.raises(TypeError, match="corpus twice"):
        train_word2vec(SENTENCES, sentences=[["x", "y"]])
    with pytest.raises(TypeError, match="corpus twice"):
        train_word2vec(SENTENCES, corpus=SENTENCES)
    with pytest.raises(TypeError, match="needs a corpus"):
        train_word2vec(dim=5)
    with pytest.raises(TypeError, match="one positional argument"):
        train_word2vec(SENTENCES, 5)
    with pytest.raises(FileNotFoundError, match="corpus_file 'nope.txt' does not exist"):
        train_word2vec(corpus_file="nope.txt")
    assert resolve_gensim_names({"window": 3}) == {"window": 3}  # shared names pass through


def test_min_alpha_is_where_the_linear_decay_ends(monkeypatch):
    lrs = []
    real = w2v.sparse_step

    def spy(net, opt, *args, **kwargs):
        lrs.append(opt.lr)
        return real(net, opt, *args, **kwargs)

    monkeypatch.setattr(w2v, "sparse_step", spy)
    train_word2vec(SENTENCES * 20, **{**BASE, "epochs": 3}, dim=4, alpha=0.05, min_alpha=0.01,
                   batch_size=16)  # fmt: skip
    # the words done are shared among a group's batches: the lr falls batch by batch (3 epochs
    # of 2400 words, ~16 pairs a batch), from alpha to just above min_alpha
    assert lrs[0] == 0.05 and len(lrs) > 300
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert 0.01 < lrs[-1] < 0.01 + 0.04 * 20 / 7200
    lrs.clear()
    train_word2vec(SENTENCES * 20, **{**BASE, "epochs": 3}, dim=4, lr=0.05, batch_size=16)
    # None: word2vec.c's decay to 0 (floored at lr * 1e-4)
    assert lrs[0] == 0.05 and all(a > b for a, b in zip(lrs, lrs[1:]))
    assert 0 < lrs[-1] < 0.05 * 20 / 7200
