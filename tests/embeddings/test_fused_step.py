"""word2vec's fused skip-gram SGD step (sinapsi.embeddings.fused): the same step as
sparse_step's leaf path with SparseSGD, to rounding, done in the tables."""

from __future__ import annotations

import numpy as np
import pytest

from sinapsi import _numba
from sinapsi.embeddings.fused import StepBuffers, fused_sgd_step
from sinapsi.embeddings.word2vec import SkipGram, SparseSGD, sparse_step

pytestmark = pytest.mark.skipif(not _numba.available(), reason="numba is not installed")


class LeafSGD(SparseSGD):
    """SparseSGD through sparse_step's leaf path (the fused step takes SparseSGD itself)."""


def _model(dtype: str) -> SkipGram:
    m = SkipGram(50, 16, rng=0, dtype=dtype)
    m.context.weight.data[...] = np.random.default_rng(1).normal(size=(50, 16)) * 0.3
    return m


def _batch(seed: int, n: int = 300):
    """Pairs over 50 words: every row used many times as input, output and negative."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 50, n), rng.integers(0, 50, n), rng.integers(0, 50, (n, 5))


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
def test_fused_step_equals_the_leaf_step(dtype, rtol):
    fused, leaf = _model(dtype), _model(dtype)
    for seed in range(3):  # three steps, each from the tables the last one left
        batch = _batch(seed)
        with _numba.use_kernels(True):
            loss_f = sparse_step(fused, SparseSGD([], 0.05), *batch)
            loss_l = sparse_step(leaf, LeafSGD([], 0.05), *batch)
        assert loss_f == pytest.approx(loss_l, rel=rtol)
        for a, b in ((fused.center, leaf.center), (fused.context, leaf.context)):
            assert a.weight.data.dtype == np.dtype(dtype)
            scale = np.abs(b.weight.data).max()
            np.testing.assert_allclose(a.weight.data, b.weight.data, rtol=0, atol=rtol * scale)
    moved = np.abs(fused.center.weight.data - _model(dtype).center.weight.data).max()
    assert moved > 0.01  # the steps did something


def test_fused_step_declines_without_the_kernels_and_changes_nothing():
    m = _model("float32")
    before = (m.center.weight.data.copy(), m.context.weight.data.copy())
    with _numba.use_kernels(False):
        assert fused_sgd_step(m.center.weight.data, m.context.weight.data, *_batch(0), 0.1) is None
    np.testing.assert_array_equal(m.center.weight.data, before[0])
    np.testing.assert_array_equal(m.context.weight.data, before[1])
    with _numba.use_kernels(True):  # int8 tables: not for the kernels either
        small = np.zeros((50, 16), np.int8)
        assert fused_sgd_step(small, small.copy(), *_batch(0), 0.1) is None


def test_fused_step_counts_ids_from_the_end_and_refuses_out_of_range():
    """Negative ids count from the end, as in the leaf path; ids past the table raise."""
    a, b = _model("float64"), _model("float64")
    centers, contexts, negs = _batch(4, 20)
    with _numba.use_kernels(True):
        sparse_step(a, SparseSGD([], 0.1), centers, contexts - 50, negs - 50)
        sparse_step(b, SparseSGD([], 0.1), centers, contexts, negs)
        np.testing.assert_array_equal(a.context.weight.data, b.context.weight.data)
        with pytest.raises(IndexError, match=r"ids must be in \[-50, 50\)"):
            sparse_step(a, SparseSGD([], 0.1), centers, contexts + 50, negs)


def test_reused_buffers_give_the_same_steps_bit_for_bit():
    """One StepBuffers across batches of several sizes (a big one, then smaller ones that take
    views of its arrays) steps the tables exactly as fresh arrays each time, int32 or int64
    ids alike."""
    fresh, reused = _model("float32"), _model("float32")
    buffers = StepBuffers()
    for seed, n in ((0, 300), (1, 40), (2, 299), (3, 1)):
        centers, contexts, negs = _batch(seed, n)
        with _numba.use_kernels(True):
            a = fused_sgd_step(
                fresh.center.weight.data, fresh.context.weight.data, centers, contexts, negs,
                0.05,
            )  # fmt: skip
            b = fused_sgd_step(
                reused.center.weight.data, reused.context.weight.data, centers.astype(np.int32),
                contexts.astype(np.int32), negs.astype(np.int32), 0.05, buffers,
            )  # fmt: skip
        assert a == b
        np.testing.assert_array_equal(fresh.center.weight.data, reused.center.weight.data)
        np.testing.assert_array_equal(fresh.context.weight.data, reused.context.weight.data)
    assert buffers.take("gh", (300, 16), np.float32).shape == (300, 16)


def test_fused_step_counts_centers_from_the_end_and_refuses_out_of_range():
    a, b = _model("float64"), _model("float64")
    centers, contexts, negs = _batch(5, 20)
    with _numba.use_kernels(True):
        sparse_step(a, SparseSGD([], 0.1), centers - 50, contexts, negs)
        sparse_step(b, SparseSGD([], 0.1), centers, contexts, negs)
        np.testing.assert_array_equal(a.center.weight.data, b.center.weight.data)
        np.testing.assert_array_equal(a.context.weight.data, b.context.weight.data)
        before = a.center.weight.data.copy()
        with pytest.raises(IndexError, match=r"centers must be in \[-50, 50\)"):
            sparse_step(a, SparseSGD([], 0.1), centers + 50, contexts, negs)
        np.testing.assert_array_equal(a.center.weight.data, before)  # nothing was done
