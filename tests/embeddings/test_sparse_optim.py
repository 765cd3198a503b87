"""The sparse optimizers of word2vec run sinapsi.optim's update math on the rows a batch uses:
a sparse step equals, bit for bit, the dense optimizer's step on a parameter made of those
rows (issue 14, structure)."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi as sn
from sinapsi.embeddings.sparse import SparseAdagrad, SparseAdam, SparseSGD
from sinapsi.optim import SGD, Adagrad, Adam

PAIRS = [(SparseSGD, SGD), (SparseAdagrad, Adagrad), (SparseAdam, Adam)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sparse_cls, dense_cls", PAIRS)
@pytest.mark.parametrize("known_values", [False, True])
def test_sparse_rows_step_as_the_dense_optimizer(sparse_cls, dense_cls, dtype, known_values):
    rng = np.random.default_rng(3)
    rows = np.array([1, 4, 5, 9])
    table = sn.Tensor(rng.normal(size=(10, 3)), dtype=dtype)
    before = table.data.copy()
    sub = sn.Tensor(table.data[rows].copy(), dtype=dtype, requires_grad=True)
    sparse, dense = sparse_cls([table], 0.1), dense_cls([sub], lr=0.1)
    for _ in range(3):
        grad = rng.normal(size=(4, 3)).astype(dtype)
        sparse.begin_step()
        sparse.update(table, rows, grad, table.data[rows] if known_values else None)
        sub.grad = grad
        dense.step()
        np.testing.assert_array_equal(table.data[rows], sub.data)
    others = np.setdiff1d(np.arange(10), rows)
    np.testing.assert_array_equal(table.data[others], before[others])


@pytest.mark.parametrize("sparse_cls, dense_cls", PAIRS)
def test_whole_table_step_as_the_dense_optimizer(sparse_cls, dense_cls):
    rng = np.random.default_rng(4)
    table = sn.Tensor(rng.normal(size=(6, 2)), dtype="float32")
    twin = sn.Tensor(table.data.copy(), dtype="float32", requires_grad=True)
    sparse, dense = sparse_cls([table], 0.05), dense_cls([twin], lr=0.05)
    for _ in range(2):
        grad = rng.normal(size=(6, 2)).astype("float32")
        sparse.begin_step()
        sparse.update(table, slice(None), grad)
        twin.grad = grad
        dense.step()
        np.testing.assert_array_equal(table.data, twin.data)
