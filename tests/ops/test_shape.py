"""Shape ops, indexing, gather, joins and casts against PyTorch and finite differences."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import sinapsi as sn
from sinapsi.testing import check_op
from strategies import nonscalar_shapes, normal, seeds


@given(shape=nonscalar_shapes, seed=seeds)
def test_reshape_and_flatten(shape, seed):
    x = normal(seed, shape)
    check_op(lambda t: t.reshape(-1, 1), lambda t: t.reshape(-1, 1), [x])
    check_op(lambda t: t.flatten(), lambda t: t.flatten(), [x])
    check_op(lambda t: sn.flatten(t, 1), lambda t: torch.flatten(t, 1), [x[None]])


@given(shape=nonscalar_shapes, seed=seeds, data=st.data())
def test_transpose_any_permutation(shape, seed, data):
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    x = normal(seed, shape)
    check_op(lambda t: t.transpose(perm), lambda t: t.permute(perm), [x])
    check_op(lambda t: t.T, lambda t: t.permute(tuple(reversed(range(t.ndim)))), [x])


def test_expand_dims_squeeze_broadcast_to():
    x = normal(0, (3, 1, 2))
    check_op(lambda t: sn.expand_dims(t, 0), lambda t: t.unsqueeze(0), [x])
    check_op(lambda t: sn.squeeze(t, 1), lambda t: t.squeeze(1), [x])
    check_op(lambda t: sn.broadcast_to(t, (4, 3, 5, 2)), lambda t: t.expand(4, 3, 5, 2), [x])


INDICES = {
    "int": (1,),
    "negative_int": (-1,),
    "slice": (slice(1, None),),
    "step_slice": (slice(None, None, 2),),
    "tuple": (1, slice(0, 2)),
    "ellipsis": (Ellipsis, 0),
    "newaxis": (None, slice(None)),
    "int_array_with_repeats": (np.array([0, 2, 0, 0]),),
    "negative_int_array_with_repeats": (np.array([-1, 0, 2, -1]),),
    "int_matrix_with_repeats": (np.array([[0, 2], [2, 2]]),),
    "two_int_arrays": (np.array([0, 1, 2]), np.array([3, 0, 3])),
    "array_and_slice": (slice(None), np.array([1, 1, 0])),
}


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem_matches_torch(name):
    index = INDICES[name]
    x = normal(7, (3, 4))
    t_index = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)
    check_op(lambda t: t[index], lambda t: t[t_index], [x])


def test_getitem_with_boolean_mask_and_tensor_index():
    x = normal(8, (5, 2))
    mask = np.array([True, False, True, True, False])
    check_op(lambda t: t[mask], lambda t: t[torch.tensor(mask)], [x])
    idx = sn.tensor([4, 0])
    check_op(lambda t: t[idx], lambda t: t[torch.tensor([4, 0])], [x])


@given(seed=seeds, data=st.data())
def test_gather_matches_torch(seed, data):
    rng = np.random.default_rng(seed)
    shape = data.draw(st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)))
    axis = data.draw(st.sampled_from([0, 1, 2, -1]))
    idx_shape = list(shape)
    idx_shape[axis] = data.draw(st.integers(1, 5))  # may pick the same position several times
    index = rng.integers(0, shape[axis], size=idx_shape)
    check_op(
        lambda t, i: sn.gather(t, axis, i),
        lambda t, i: torch.gather(t, axis, i),
        [normal(seed, shape), index],
    )


@given(seed=seeds, n=st.integers(1, 3), axis=st.sampled_from([0, 1, -1]))
def test_concatenate_and_stack(seed, n, axis):
    rng = np.random.default_rng(seed)
    parts = [normal(seed + k, (2, int(rng.integers(1, 4)), 3)) for k in range(n)]
    if axis != 1:
        parts = [p[:, :1] for p in parts]  # equal shapes except along `axis`
    check_op(
        lambda *ts: sn.concatenate(ts, axis),
        lambda *ts: torch.cat(ts, axis),
        parts,
    )
    same = [normal(seed + k, (2, 3)) for k in range(n)]
    check_op(lambda *ts: sn.stack(ts, axis), lambda *ts: torch.stack(ts, axis), same)


def test_astype_between_floats_is_differentiable():
    x = sn.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    y = x.astype("float64")
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_astype_to_int_cuts_the_graph():
    x = sn.tensor([1.5, 2.5], requires_grad=True)
    assert not x.astype("int64").requires_grad


def test_gather_index_out_of_range_is_a_clear_error():
    x = sn.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"gather: index 3 is out of range for axis 1 of size 3"):
        sn.gather(x, 1, np.array([[0], [3]]))
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        sn.gather(x, 1, np.array([[0], [-1]]))


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        sn.tensor(np.zeros((2, 3))).reshape(4, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_getitem_backward_scatter_equals_add_at_exactly(dtype, kernels):
    """Repeated and negative row indices: the sparse-product scatter (and the numba loop) add
    in the same order as np.add.at, so the sums agree bit for bit (the docstring's claim)."""
    from sinapsi.ops.shape import _scatter_rows

    rng = np.random.default_rng(0)
    rows = rng.integers(-40, 40, size=(300, 2))
    g = rng.standard_normal((300, 2, 7)).astype(dtype)
    expected = np.zeros((40, 7), dtype)
    np.add.at(expected, rows.reshape(-1), g.reshape(600, 7))
    got = _scatter_rows(np, (40, 7), rows, g)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, expected)
