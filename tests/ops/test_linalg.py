"""matmul in all its shapes, and the fused linear op, against PyTorch and finite differences."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import sinapsi as sn
from sinapsi.testing import check_op
from strategies import normal, seeds

SHAPES = {
    "vector_vector": ((4,), (4,)),
    "vector_matrix": ((4,), (4, 3)),
    "matrix_vector": ((2, 4), (4,)),
    "matrix_matrix": ((2, 4), (4, 3)),
    "batched_both": ((5, 2, 4), (5, 4, 3)),
    "batched_left": ((5, 2, 4), (4, 3)),
    "batched_right": ((2, 4), (5, 4, 3)),
    "broadcast_batches": ((2, 1, 2, 4), (3, 4, 3)),
    "batched_vector": ((5, 2, 4), (4,)),
    "vector_batched": ((4,), (5, 4, 3)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_matmul_shapes_match_torch(name):
    sa, sb = SHAPES[name]
    check_op(sn.matmul, torch.matmul, [normal(1, sa), normal(2, sb)])


@given(seed=seeds, n=st.integers(1, 5), k=st.integers(1, 5), m=st.integers(1, 5))
def test_matmul_random_sizes(seed, n, k, m):
    check_op(
        lambda a, b: a @ b, lambda a, b: a @ b, [normal(seed, (n, k)), normal(seed + 1, (k, m))]
    )


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias):
    inputs = [normal(1, x_shape), normal(2, (5, 4))] + ([normal(3, (5,))] if bias else [])
    check_op(sn.linear, torch.nn.functional.linear, inputs)


def test_matmul_shape_mismatch_names_the_op_and_shapes():
    a, b = sn.tensor(np.ones((2, 3))), sn.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"need at least 1 dimension"):
        sn.matmul(sn.tensor(2.0), a)
    with pytest.raises(ValueError, match=r"batch axes must broadcast"):
        sn.matmul(sn.tensor(np.ones((2, 2, 3))), sn.tensor(np.ones((3, 3, 4))))
