"""word2vec: windows, the models' loss gradients, sparse updates and a planted analogy (the
negative sampler and the losses over table rows are in test_negative_sampling.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import sinapsi as sn
from sinapsi.embeddings import Vocabulary
from sinapsi.embeddings.negative_sampling import shared_negative_sampling_loss_rows
from sinapsi.embeddings.sparse import _unique_inverse
from sinapsi.embeddings.word2vec import (
    CBOW,
    SkipGram,
    SparseAdagrad,
    SparseAdam,
    SparseSGD,
    _batches,
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


@pytest.mark.parametrize("n, size", [(50, 40), (50, 6), (10_000, 30)])
def test_unique_inverse_equals_np_unique(n, size):
    ids = np.random.default_rng(n).integers(0, n, (size, 3))
    uniq, inverse = _unique_inverse(ids, n)
    expect_uniq, expect_inverse = np.unique(ids, return_inverse=True)
    np.testing.assert_array_equal(uniq, expect_uniq)
    np.testing.assert_array_equal(inverse, expect_inverse.reshape(ids.shape))
    assert inverse.dtype == np.int32


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


@pytest.mark.parametrize("V", [12, 40])  # the batch touches > half the output rows, or not
@pytest.mark.parametrize("cls", [SkipGram, CBOW])
def test_sparse_sgd_step_equals_dense_step(cls, V, kernels):
    D, lr = 4, 0.1
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


@pytest.mark.parametrize("opt_cls", [SparseSGD, SparseAdagrad])
def test_concurrent_step_keeps_the_updates_made_meanwhile(opt_cls, kernels):
    """Hogwild: a step B that runs between step A's gather of its rows and A's update (as
    another worker thread can) must not be undone by A writing back its stale copy. (A
    subclass of SparseSGD takes the leaf path; SparseSGD itself, with the compiled loops,
    takes the fused step, which copies no rows back: test_fused_step.py.)"""
    if opt_cls is SparseSGD:
        opt_cls = type("LeafSGD", (SparseSGD,), {})

    def model():
        m = SkipGram(200, 8, rng=0, dtype="float64")
        m.context.weight.data[...] = np.random.default_rng(1).normal(size=(200, 8)) * 0.1
        return m

    rng = np.random.default_rng(2)
    a = (np.array([0, 1, 2]), np.array([3, 4, 5]), rng.integers(10, 20, (3, 2)))
    b = (np.array([0, 1, 2]), np.array([6, 7, 8]), rng.integers(20, 30, (3, 2)))
    start = model().center.weight.data[:3].copy()
    after = {}
    for name, batch in (("a", a), ("b", b)):
        alone = model()
        sparse_step(alone, opt_cls([], 0.5), *batch)
        after[name] = alone.center.weight.data[:3]
    m = model()
    opt_a, opt_b = opt_cls([], 0.5), opt_cls([], 0.5)
    begin = opt_a.begin_step
    opt_a.begin_step = lambda: (sparse_step(m, opt_b, *b, concurrent=True), begin())
    sparse_step(m, opt_a, *a, concurrent=True)
    got = m.center.weight.data[:3]
    if issubclass(opt_cls, SparseSGD):  # both steps computed from the same rows: their sum
        np.testing.assert_allclose(got, after["a"] + after["b"] - start, rtol=1e-12)
    else:
        assert not np.allclose(got, after["a"]) and not np.allclose(got, after["b"])


def test_sparse_sgd_rows_out_of_range_raise(kernels):
    w = sn.Tensor(np.zeros((3, 2)), dtype="float64")
    opt = SparseSGD([w], 0.1)
    with pytest.raises(IndexError):
        opt.update(w, np.array([0, 10**5]), np.ones((2, 2)))
    opt.update(w, [2, 0], np.ones((2, 2)))  # a list of rows, as NumPy indexing takes
    np.testing.assert_allclose(w.data, [[-0.1, -0.1], [0, 0], [-0.1, -0.1]])


def test_sparse_step_with_shared_negatives_equals_dense_step(kernels):
    V, D, lr = 12, 4, 0.1
    model = SkipGram(V, D, rng=0, dtype="float64")
    model.context.weight.data[...] = np.random.default_rng(7).normal(size=(V, D))
    c = np.array([0, 3, 3, 5, 0, 9, 2])
    o = np.array([1, 4, 1, 6, 2, 3, 3])
    neg = np.array([[2, 7, 7], [0, 1, 11], [4, 4, 6]])  # groups of 3, 3 and 1 pairs
    sparse = copy.deepcopy(model)
    loss = shared_negative_sampling_loss_rows(
        model.center(c), model.context.weight, o, neg, negative=5, reduction="sum"
    )
    loss.backward()
    expect_in = model.center.weight.data - lr * model.center.weight.grad
    expect_out = model.context.weight.data - lr * model.context.weight.grad
    opt = SparseSGD([sparse.center.weight, sparse.context.weight], lr)
    got = sparse_step(sparse, opt, c, o, neg, shared_as=5)
    assert got == pytest.approx(float(loss.data))
    np.testing.assert_allclose(sparse.center.weight.data, expect_in, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sparse.context.weight.data, expect_out, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("opt_cls", [SparseSGD, SparseAdagrad, SparseAdam])
def test_sparse_update_with_known_values_is_the_same(opt_cls):
    rng = np.random.default_rng(8)
    a = sn.Tensor(rng.normal(size=(10, 3)), dtype="float64")
    b = sn.Tensor(a.data.copy(), dtype="float64")
    rows = np.array([1, 4, 5, 9])
    opt_a, opt_b = opt_cls([a], 0.1), opt_cls([b], 0.1)
    for _ in range(3):
        grad = rng.normal(size=(4, 3))
        opt_a.begin_step()
        opt_b.begin_step()
        opt_a.update(a, rows, grad)
        opt_b.update(b, rows, grad, b.data[rows])
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("opt_cls", [SparseAdagrad, SparseAdam])
def test_sparse_adaptive_optimizers_leave_untouched_rows(opt_cls):
    # most rows are used (sparse_step may then update the whole table), but rows 8 and 9 never
    model = SkipGram(10, 3, rng=0, dtype="float64")
    model.context.weight.data[...] = np.random.default_rng(9).normal(size=(10, 3))
    opt = opt_cls([model.center.weight, model.context.weight], 0.05)
    c, o = np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])
    sparse_step(model, opt, c, o, np.array([[0, 1], [2, 3], [4, 5], [6, 7]]))
    before_in, before_out = model.center.weight.data.copy(), model.context.weight.data.copy()
    sparse_step(model, opt, c[:2], o[:2], np.array([[0, 1], [2, 3]]))  # 6 output rows of 10
    untouched_in, untouched_out = [2, 3, 4, 5, 6, 7, 8, 9], [6, 7, 8, 9]
    np.testing.assert_array_equal(model.center.weight.data[untouched_in], before_in[untouched_in])
    np.testing.assert_array_equal(
        model.context.weight.data[untouched_out], before_out[untouched_out]
    )


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


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_batches_stay_in_sentences(model):
    # every word is unique to its sentence, so a pair across sentences would show
    sentences = [[f"s{i}w{j}" for j in range(n)] for i, n in enumerate([3, 40, 1, 7, 25] * 30)]
    vocab = Vocabulary.build(sentences, min_count=1)
    sentence_of = np.array([int(w[1 : w.index("w")]) for w in vocab.words])

    def run(seed):
        return list(
            _batches(
                sentences, vocab, model, 3, 0.0, 64, np.random.default_rng(seed),
                chunk_words=300,
            )
        )  # fmt: skip

    out = run(0)
    assert sum(consumed for consumed, _ in out) == sum(map(len, sentences))
    assert all(0 < len(batch[0]) <= 64 for _, batch in out)
    for _, batch in out:
        if model == "cbow":
            centers, contexts, mask = batch
            assert mask.any(axis=1).all()
            assert (sentence_of[contexts] == sentence_of[centers][:, None])[mask].all()
        else:
            centers, contexts = batch
            assert (sentence_of[centers] == sentence_of[contexts]).all()
    # the same pairs as sentence by sentence with the full window (dynamic windows are subsets)
    if model == "skipgram":
        pairs = sorted(p for _, (c, o) in out for p in zip(c.tolist(), o.tolist()))
        full = sorted(
            p
            for s in sentences
            for p in zip(*(a.tolist() for a in window_pairs(vocab.encode(s), 3, dynamic=False)))
        )
        assert set(pairs) <= set(full) and len(pairs) == len(set(pairs)) and len(pairs) > 1000
    again = run(0)
    for (_, x), (_, y) in zip(out, again):
        for a, b in zip(x, y):
            np.testing.assert_array_equal(a, b)


def test_planted_analogy_and_reproducibility(kernels):
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


@pytest.mark.parametrize("model, optimizer", [("skipgram", "sgd"), ("cbow", "adagrad")])
def test_hogwild_workers_learn_the_planted_analogy(model, optimizer, kernels):
    """Two threads updating the shared tables without locks (not reproducible, by design)
    still solve the planted analogies, and see every batch once."""
    import sinapsi.embeddings.word2vec as w2v

    corpus = royal_corpus(2000, seed=0)
    kwargs = dict(dim=20, window=4, negative=5, min_count=1, sample=0, epochs=3)
    kwargs.update(batch_size=256, seed=42, model=model, optimizer=optimizer)
    kwargs.update(lr=0.025 if optimizer == "sgd" else 0.1)
    threads, pairs = set(), []
    original = w2v.sparse_step

    def spy(model_, opt, center, *rest, **options):
        import threading

        threads.add(threading.current_thread().name)
        pairs.append(len(center))
        return original(model_, opt, center, *rest, **options)

    w2v.sparse_step = spy
    try:
        kv = train_word2vec(corpus, workers=2, **kwargs)
    finally:
        w2v.sparse_step = original
    assert kv.analogy("man", "king", "woman")[0][0] == "queen"
    assert kv.analogy("woman", "queen", "man")[0][0] == "king"
    single = []
    w2v.sparse_step = lambda m, o, c, *r, **k: single.append(len(c)) or original(m, o, c, *r, **k)
    try:
        train_word2vec(corpus, workers=1, **kwargs)
    finally:
        w2v.sparse_step = original
    assert sorted(pairs) == sorted(single)  # the same batches, taken by either thread
    assert len(threads) == 2


def test_an_error_in_a_worker_thread_is_raised():
    import threading

    import sinapsi.embeddings.word2vec as w2v

    original = w2v.sparse_step

    def failing(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("worker failed")
        return original(*args, **kwargs)

    w2v.sparse_step = failing
    try:
        with pytest.raises(RuntimeError, match="worker failed"):
            train_word2vec(royal_corpus(400, seed=0), min_count=1, batch_size=16, workers=2)
    finally:
        w2v.sparse_step = original
    assert not [t for t in threading.enumerate() if t.name.startswith("sinapsi-word2vec")]


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


def test_shared_negatives_learn_and_are_reproducible():
    corpus = royal_corpus(2000, seed=0)
    kwargs = dict(dim=20, window=4, negative=5, min_count=1, sample=0, epochs=3)
    kwargs.update(batch_size=256, seed=42, share_negatives=16)
    kv = train_word2vec(corpus, **kwargs)
    assert kv.analogy("man", "king", "woman")[0][0] == "queen"
    assert kv.analogy("woman", "queen", "man")[0][0] == "king"
    np.testing.assert_array_equal(kv.vectors, train_word2vec(corpus, **kwargs).vectors)
    classic = train_word2vec(corpus, **{**kwargs, "share_negatives": 1})
    assert not np.array_equal(kv.vectors, classic.vectors)


def test_train_validates_arguments():
    with pytest.raises(ValueError, match="model"):
        train_word2vec([["a", "b"]], model="glove", min_count=1)
    with pytest.raises(ValueError, match="optimizer"):
        train_word2vec([["a", "b"]], optimizer="rmsprop", min_count=1)
    with pytest.raises(ValueError, match="window"):
        train_word2vec([["a", "b"]], window=0, min_count=1)
    with pytest.raises(ValueError, match="share_negatives must be a positive int .*got 0"):
        train_word2vec([["a", "b"]], share_negatives=0, min_count=1)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="workers must be a positive int"):
            train_word2vec([["a", "b"]], workers=bad, min_count=1)


def test_train_from_file_with_progress_bar(tmp_path, capsys):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in royal_corpus(200, seed=3)), encoding="utf-8")
    kv = train_word2vec(str(path), dim=8, min_count=1, epochs=1, batch_size=64, seed=0, verbose=1)
    assert "king" in kv and kv.dim == 8
    assert "word" in capsys.readouterr().err  # tqdm writes to stderr
