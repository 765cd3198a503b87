"""The negative sampler (alias table, unigram^0.75 draws) and the negative-sampling losses over
table rows (fused gather, shared negatives, the numba kernels against NumPy): the pieces of
sinapsi.embeddings.negative_sampling that word2vec's models train with. The models themselves
are tested in test_word2vec.py."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi as sn
from sinapsi.embeddings import Vocabulary
from sinapsi.embeddings.negative_sampling import (
    NegativeSampler,
    _alias_table,
    _lookup,
    negative_sampling_loss,
    negative_sampling_loss_rows,
    shared_negative_sampling_loss_rows,
)


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


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 50_000])
def test_alias_table_encodes_the_distribution_exactly(n):
    # a Zipf-like vocabulary: a few "large" columns fill the deficits of many "small" ones
    counts = np.floor(1e6 / np.arange(1, n + 1) ** 1.1) + 1
    p = counts**0.75 / (counts**0.75).sum()
    keep, alias = _alias_table(p)
    assert keep.shape == alias.shape == (n,)
    assert keep.min() >= 0 and keep.max() <= 1 and alias.min() >= 0 and alias.max() < n
    # P(w) = (keep[w] + sum of (1 - keep[i]) over the columns i aliased to w) / n
    implied = (keep + np.bincount(alias, weights=1 - keep, minlength=n)) / n
    np.testing.assert_allclose(implied, p, rtol=1e-9, atol=0)


def test_alias_sampler_draws_follow_the_distribution():
    words = [f"w{i}" for i in range(200)]
    vocab = Vocabulary(words, np.floor(5000 / np.arange(1, 201)).astype(np.int64) + 1)
    sampler = NegativeSampler(vocab, k=5, rng=0)
    draws = sampler((400, 1000))
    assert draws.dtype == np.int64 and draws.min() >= 0 and draws.max() < 200
    observed = np.bincount(draws.ravel(), minlength=200)
    expected = draws.size * vocab.noise_distribution(0.75)
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert chi2 < 290  # 199 degrees of freedom: P(chi2 > 290) ~ 2e-5
    # a sampler drawing from the wrong distribution (plain unigram) fails the same test
    unigram = vocab.counts / vocab.counts.sum() * draws.size
    assert ((observed - unigram) ** 2 / unigram).sum() > 10 * 290
    again = NegativeSampler(vocab, k=5, rng=0)((400, 1000))
    np.testing.assert_array_equal(draws, again)


def _table_and_inputs(seed, b=9, u=6, d=3, k=4):
    rng = np.random.default_rng(seed)
    h = sn.Tensor(rng.normal(size=(b, d)), dtype="float64", requires_grad=True)
    table = sn.Tensor(rng.normal(size=(u, d)), dtype="float64", requires_grad=True)
    return h, table, rng.integers(0, u, b), rng.integers(0, u, (b, k))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_rows_equals_loss_on_gathered_rows(reduction, kernels):
    h, table, pos, neg = _table_and_inputs(0)
    fused = negative_sampling_loss_rows(h, table, pos, neg, reduction)
    fused.backward()
    grads = h.grad.copy(), table.grad.copy()
    h.grad = table.grad = None
    plain = negative_sampling_loss(h, table[pos], table[neg], reduction)
    plain.backward()
    assert float(fused.data) == pytest.approx(float(plain.data), rel=1e-12)
    np.testing.assert_allclose(grads[0], h.grad, rtol=1e-12)
    np.testing.assert_allclose(grads[1], table.grad, rtol=1e-12, atol=1e-15)


def test_loss_rows_gradcheck_and_errors(kernels):
    h, table, pos, neg = _table_and_inputs(1)
    assert sn.gradcheck(lambda a, t: negative_sampling_loss_rows(a, t, pos, neg), [h, table])
    with pytest.raises(ValueError, match="neg_ids must be \\(B, K\\) with B = 9"):
        negative_sampling_loss_rows(h, table, pos, neg[:3])
    with pytest.raises(ValueError, match="pos_ids \\(B,\\)"):
        negative_sampling_loss_rows(h, table, pos[:4], neg)
    with pytest.raises(TypeError, match="one dtype"):
        negative_sampling_loss_rows(h, sn.Tensor(table.data, dtype="float32"), pos, neg)


def _loss_rows_and_grads(h, table, pos, neg, enabled):
    from sinapsi import _numba

    with _numba.use_kernels(enabled):
        h, table = (
            sn.Tensor(t.data.copy(), requires_grad=t.requires_grad, dtype=t.data.dtype)
            for t in (h, table)
        )
        loss = negative_sampling_loss_rows(h, table, pos, neg, "sum")
        loss.backward()
        return float(loss.data), h.grad, table.grad


@pytest.mark.parametrize("dtype, rtol", [("float32", 2e-5), ("float64", 1e-12)])
def test_loss_rows_kernels_agree_with_numpy(dtype, rtol):
    """The numba loops and the NumPy path compute the same loss and gradients (to rounding:
    they add in another order), on a batch with many repeated rows, and the loops are
    deterministic."""
    pytest.importorskip("numba")
    from sinapsi.embeddings.negative_sampling import _row_kernels

    rng = np.random.default_rng(3)
    b, u, d, k = 300, 25, 16, 5
    h = sn.Tensor(rng.normal(size=(b, d)) * 0.3, dtype=dtype, requires_grad=True)
    table = sn.Tensor(rng.normal(size=(u, d)) * 0.3, dtype=dtype, requires_grad=True)
    pos, neg = rng.integers(0, u, b), rng.integers(0, u, (b, k))
    ids = np.concatenate([pos[:, None], neg], axis=1).astype(np.int32)
    assert _row_kernels(table.data, h.data, ids) is not None  # the kernels do run here
    fast = _loss_rows_and_grads(h, table, pos, neg, True)
    slow = _loss_rows_and_grads(h, table, pos, neg, False)
    assert fast[0] == pytest.approx(slow[0], rel=rtol)
    for a, e in zip(fast[1:], slow[1:]):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * np.abs(e).max())
    again = _loss_rows_and_grads(h, table, pos, neg, True)
    for a, e in zip(again[1:], fast[1:]):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("which", ["h", "table"])
def test_loss_rows_gradient_of_one_input_only(which, kernels):
    h, table, pos, neg = _table_and_inputs(4)
    expect = _loss_rows_and_grads(h, table, pos, neg, False)
    (h if which == "table" else table).requires_grad = False
    loss = negative_sampling_loss_rows(h, table, pos, neg, "sum")
    loss.backward()
    if which == "h":
        assert table.grad is None
        np.testing.assert_allclose(h.grad, expect[1], rtol=1e-12)
    else:
        assert h.grad is None
        np.testing.assert_allclose(table.grad, expect[2], rtol=1e-12, atol=1e-15)


def test_loss_rows_ids_count_from_the_end_or_raise(kernels):
    """Ids in [-U, 0) count from the end, as NumPy's indexing (forward and backward equal to
    the loss on gathered rows); others raise IndexError before any loop sees them (the
    compiled loops do not check bounds)."""
    h, table, pos, neg = _table_and_inputs(5)
    bad = neg.copy()
    bad[2, 1] = len(table.data)
    with pytest.raises(IndexError, match=r"ids must be in \[-6, 6\) .*got ids from 0 to 6"):
        negative_sampling_loss_rows(h, table, pos, bad)
    bad[2, 1] = -7
    with pytest.raises(IndexError, match="got ids from -7"):
        negative_sampling_loss_rows(h, table, pos, bad)
    with pytest.raises(TypeError, match="ids must be integers"):
        negative_sampling_loss_rows(h, table, pos, neg.astype(float))
    bad[2, 1], bad[0, 0] = -1, -6
    got = negative_sampling_loss_rows(h, table, pos, bad)
    got.backward()
    grads = h.grad.copy(), table.grad.copy()
    h.grad = table.grad = None
    expect = negative_sampling_loss(h, table[pos], table[bad], "mean")
    expect.backward()
    assert float(got.data) == pytest.approx(float(expect.data), rel=1e-12)
    np.testing.assert_allclose(grads[0], h.grad, rtol=1e-12)
    np.testing.assert_allclose(grads[1], table.grad, rtol=1e-12, atol=1e-15)


def test_shared_negative_loss_equals_its_definition():
    h, table, pos, _ = _table_and_inputs(2, b=10)
    neg = np.random.default_rng(3).integers(0, 6, (3, 4))  # groups of ceil(10/3) = 4, 4, 2
    H, T = h.data, table.data  # noqa: N806

    def softplus(x):
        return np.logaddexp(0.0, x)

    expected = 0.0
    for i in range(10):
        expected += softplus(-(H[i] @ T[pos[i]]))
        expected += 5 / 4 * sum(softplus(H[i] @ T[j]) for j in neg[i // 4])
    got = shared_negative_sampling_loss_rows(h, table, pos, neg, negative=5, reduction="sum")
    assert float(got.data) == pytest.approx(expected, rel=1e-12)
    mean = shared_negative_sampling_loss_rows(h, table, pos, neg, negative=5)
    assert float(mean.data) == pytest.approx(expected / 10, rel=1e-12)


@pytest.mark.parametrize("groups", [1, 3, 5, 10])
def test_shared_negative_loss_gradcheck(groups):
    h, table, pos, _ = _table_and_inputs(4, b=10)
    neg = np.random.default_rng(groups).integers(0, 6, (groups, 3))

    def fn(a, t):
        return shared_negative_sampling_loss_rows(a, t, pos, neg, negative=2)

    assert sn.gradcheck(fn, [h, table])


def test_shared_negatives_of_one_pair_each_are_the_classic_loss():
    h, table, pos, neg = _table_and_inputs(5)
    shared = shared_negative_sampling_loss_rows(h, table, pos, neg, negative=neg.shape[1])
    shared.backward()
    grads = h.grad.copy(), table.grad.copy()
    h.grad = table.grad = None
    classic = negative_sampling_loss_rows(h, table, pos, neg)
    classic.backward()
    assert float(shared.data) == pytest.approx(float(classic.data), rel=1e-12)
    np.testing.assert_allclose(grads[0], h.grad, rtol=1e-12)
    np.testing.assert_allclose(grads[1], table.grad, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="neg_ids must be \\(G, S\\)"):
        shared_negative_sampling_loss_rows(h, table, pos, np.zeros((8, 2), int), negative=2)


def test_lookup_matches_getitem():
    rng = np.random.default_rng(6)
    table = sn.Tensor(rng.normal(size=(5, 3)), dtype="float64", requires_grad=True)
    ids = np.array([[0, 4, 4], [2, 0, 4]])
    weights = rng.normal(size=(2, 3, 3))
    (_lookup(table, ids) * weights).sum().backward()
    fused = table.grad.copy()
    table.grad = None
    (table[ids] * weights).sum().backward()
    np.testing.assert_allclose(fused, table.grad, rtol=1e-12)
    assert sn.gradcheck(lambda t: _lookup(t, ids) * weights, [table])
