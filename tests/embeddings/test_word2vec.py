"""word2vec: windows, negative sampler, loss gradients, sparse updates and a planted analogy."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import sinapsi as sn
from sinapsi.embeddings import Vocabulary
from sinapsi.embeddings.word2vec import (
    CBOW,
    NegativeSampler,
    SkipGram,
    SparseAdagrad,
    SparseAdam,
    SparseSGD,
    cbow_windows,
    sparse_step,
    train_word2vec,
    window_pairs,
)
from strategies import royal_corpus


def _pairs(c, o):
    return sorted(zip(c.tolist(), o.tolist()))


def test_window_pairs_fixed_window():
    c, o = window_pairs([10, 11, 12, 13], window=2, dynamic=False)
    expected = [
        (10, 11), (10, 12),
        (11, 10), (11, 12), (11, 13),
        (12, 10), (12, 11), (12, 13),
        (13, 11), (13, 12),
    ]  # fmt: skip
    assert _pairs(c, o) == sorted(expected)
    assert c.dtype == np.int64 and o.dtype == np.int64
    c, o = window_pairs([5], window=3, dynamic=False)
    assert c.size == 0 and o.size == 0


def test_window_pairs_dynamic_is_subset_and_reproducible():
    ids = np.arange(50)
    full = set(_pairs(*window_pairs(ids, 5, dynamic=False)))
    a = window_pairs(ids, 5, np.random.default_rng(0))
    b = window_pairs(ids, 5, np.random.default_rng(0))
    assert set(_pairs(*a)) <= full
    assert len(a[0]) < len(full)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    # near words are paired more often than far ones
    dist = np.abs(a[0] - a[1])
    assert (dist == 1).sum() > (dist == 5).sum()
    with pytest.raises(TypeError):
        window_pairs(ids, 5)  # dynamic needs an rng


def test_cbow_windows_fixed():
    centers, ctx, mask = cbow_windows([7, 8, 9], window=1, dynamic=False)
    assert centers.tolist() == [7, 8, 9]
    assert mask.tolist() == [[False, True], [True, True], [True, False]]
    assert ctx[mask].tolist() == [8, 7, 9, 8]


def test_negative_sampler_follows_unigram_power():
    vocab = Vocabulary(["a", "b", "c", "d", "e"], [1000, 300, 100, 20, 5])
    sampler = NegativeSampler(vocab, k=5, rng=0)
    draws = sampler.sample(20_000)
    assert draws.shape == (20_000, 5) and draws.dtype == np.int64
    n = draws.size
    observed = np.bincount(draws.ravel(), minlength=5)
    p = vocab.counts**0.75 / (vocab.counts**0.75).sum()
    expected = n * p
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert chi2 < 20.0  # 4 degrees of freedom: P(chi2 > 20) ~ 5e-4
    np.testing.assert_allclose(sampler.probabilities, p)


def test_negative_sampling_loss_gradcheck():
    model = SkipGram(6, 3, rng=0, dtype="float64")
    rng = np.random.default_rng(1)
    model.context.weight.data[...] = rng.normal(size=(6, 3))  # zeros would hide the u-terms
    c = np.array([0, 1, 1, 4])
    o = np.array([2, 3, 0, 4])
    neg = np.array([[5, 2], [1, 1], [3, 0], [4, 5]])

    def fn(w_in, w_out):
        model.center.weight, model.context.weight = w_in, w_out
        return model(c, o, neg)

    w_in, w_out = model.center.weight, model.context.weight
    assert sn.gradcheck(fn, [w_in, w_out], mode="full")


def test_cbow_loss_gradcheck():
    model = CBOW(5, 3, rng=0, dtype="float64")
    model.context.weight.data[...] = np.random.default_rng(2).normal(size=(5, 3))
    c, ctx, mask = cbow_windows([0, 1, 2, 3, 4], window=1, dynamic=False)
    neg = np.random.default_rng(3).integers(0, 5, size=(len(c), 2))

    def fn(w_in, w_out):
        model.center.weight, model.context.weight = w_in, w_out
        return model(c, ctx, neg, mask)

    assert sn.gradcheck(fn, [model.center.weight, model.context.weight], mode="full")


def test_loss_matches_formula():
    model = SkipGram(4, 2, rng=0, dtype="float64")
    model.context.weight.data[...] = np.random.default_rng(0).normal(size=(4, 2))
    v, u = model.center.weight.data, model.context.weight.data
    c, o, neg = np.array([0, 1]), np.array([2, 3]), np.array([[1, 3], [0, 2]])

    def log_sigmoid(x):
        return -np.log1p(np.exp(-x))

    per = [
        -log_sigmoid(u[o[i]] @ v[c[i]]) - sum(log_sigmoid(-(u[k] @ v[c[i]])) for k in neg[i])
        for i in range(2)
    ]
    assert float(model(c, o, neg).data) == pytest.approx(np.mean(per), rel=1e-12)
    assert float(model(c, o, neg, reduction="sum").data) == pytest.approx(np.sum(per))


@pytest.mark.parametrize("cls", [SkipGram, CBOW])
def test_sparse_sgd_step_equals_dense_step(cls):
    V, D, lr = 12, 4, 0.1
    model = cls(V, D, rng=0, dtype="float64")
    rng = np.random.default_rng(5)
    model.context.weight.data[...] = rng.normal(size=(V, D))
    c = np.array([0, 3, 3, 5, 0])  # repeated ids: gradients must add up
    if cls is CBOW:
        o = np.array([[1, 2], [1, 4], [2, 2], [6, 1], [4, 0]])
        mask = np.array([[1, 1], [1, 0], [1, 1], [0, 1], [1, 1]], dtype=bool)
    else:
        o, mask = np.array([1, 4, 1, 6, 2]), None
    neg = np.array([[2, 7], [7, 7], [0, 1], [4, 6], [3, 2]])

    sparse = copy.deepcopy(model)
    extra = () if mask is None else (mask,)
    loss = model(c, o, neg, *extra, reduction="sum")
    loss.backward()
    expect_in = model.center.weight.data - lr * model.center.weight.grad
    expect_out = model.context.weight.data - lr * model.context.weight.grad

    before_in = sparse.center.weight.data.copy()
    before_out = sparse.context.weight.data.copy()
    got = sparse_step(
        sparse, SparseSGD([sparse.center.weight, sparse.context.weight], lr), c, o, neg, mask
    )
    assert got == pytest.approx(float(loss.data))
    np.testing.assert_allclose(sparse.center.weight.data, expect_in, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sparse.context.weight.data, expect_out, rtol=1e-12, atol=1e-14)
    used_in = np.unique(o[mask] if cls is CBOW else c)
    used_out = np.unique(np.concatenate([(c if cls is CBOW else o).ravel(), neg.ravel()]))
    untouched_in = np.setdiff1d(np.arange(V), used_in)
    untouched_out = np.setdiff1d(np.arange(V), used_out)
    if cls is SkipGram:  # masked-out CBOW slots still index a row (with zero gradient)
        np.testing.assert_array_equal(
            sparse.center.weight.data[untouched_in], before_in[untouched_in]
        )
    np.testing.assert_array_equal(
        sparse.context.weight.data[untouched_out], before_out[untouched_out]
    )
    assert len(untouched_in) and len(untouched_out)


@pytest.mark.parametrize("opt_cls", [SparseAdagrad, SparseAdam])
def test_sparse_adaptive_optimizers_reduce_loss(opt_cls):
    model = SkipGram(10, 4, rng=0, dtype="float64")
    rng = np.random.default_rng(0)
    c, o = rng.integers(0, 10, 64), rng.integers(0, 10, 64)
    neg = rng.integers(0, 10, (64, 3))
    opt = opt_cls([model.center.weight, model.context.weight], 0.05)
    first = sparse_step(model, opt, c, o, neg)
    for _ in range(30):
        last = sparse_step(model, opt, c, o, neg)
    assert last < first


def test_planted_analogy_and_reproducibility():
    corpus = royal_corpus(2000, seed=0)
    kwargs = dict(dim=20, window=4, negative=5, min_count=1, sample=0, epochs=3)
    kwargs.update(batch_size=256, seed=42)
    kv = train_word2vec(corpus, **kwargs)
    assert kv.analogy("man", "king", "woman")[0][0] == "queen"
    assert kv.analogy("woman", "queen", "man")[0][0] == "king"
    assert kv.analogy("king", "queen", "man")[0][0] == "woman"
    again = train_word2vec(corpus, **kwargs)
    np.testing.assert_array_equal(kv.vectors, again.vectors)
    other = train_word2vec(corpus, **{**kwargs, "seed": 7})
    assert not np.array_equal(kv.vectors, other.vectors)


@pytest.mark.parametrize(
    "model, optimizer, lr",
    [("cbow", "sgd", 0.05), ("skipgram", "adam", 0.01), ("skipgram", "adagrad", 0.1)],
)
def test_other_models_and_optimizers_learn(model, optimizer, lr):
    corpus = royal_corpus(1500, seed=1)
    kv = train_word2vec(
        corpus, model=model, optimizer=optimizer, lr=lr, dim=16, window=4, min_count=1,
        sample=0, epochs=3, batch_size=256, seed=0,
    )  # fmt: skip
    assert kv.analogy("man", "king", "woman")[0][0] == "queen"
    assert np.isfinite(kv.vectors).all()
    # royal words end up closer to each other than to common ones
    assert kv.similarity("palace", "throne") > kv.similarity("palace", "field")
    assert kv.similarity("queen", "king") > kv.similarity("queen", "field")


def test_train_validates_arguments():
    with pytest.raises(ValueError, match="model"):
        train_word2vec([["a", "b"]], model="glove", min_count=1)
    with pytest.raises(ValueError, match="optimizer"):
        train_word2vec([["a", "b"]], optimizer="rmsprop", min_count=1)
    with pytest.raises(ValueError, match="window"):
        train_word2vec([["a", "b"]], window=0, min_count=1)


def test_train_from_file_with_progress_bar(tmp_path, capsys):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in royal_corpus(200, seed=3)), encoding="utf-8")
    kv = train_word2vec(str(path), dim=8, min_count=1, epochs=1, batch_size=64, seed=0, verbose=1)
    assert "king" in kv and kv.dim == 8
    assert "word" in capsys.readouterr().err  # tqdm writes to stderr
