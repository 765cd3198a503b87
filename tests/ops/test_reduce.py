"""Reductions against PyTorch and finite differences, over every axis choice."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import sinapsi as sn
from sinapsi.testing import check_op
from strategies import nonscalar_shapes, normal, seeds


def axis_choices(ndim):
    """None, each single axis (positive and negative), and a pair of axes."""
    choices = [None] + list(range(ndim)) + [-1]
    if ndim >= 2:
        choices.append((0, ndim - 1))
    return choices


def torch_dim(axis):
    return tuple(range(0)) if axis is None else axis


REDUCTIONS = {
    "sum": (sn.sum, lambda x, a, k: x.sum() if a is None and not k else x.sum(dim=a, keepdim=k)),
    "mean": (
        sn.mean,
        lambda x, a, k: x.mean() if a is None and not k else x.mean(dim=a, keepdim=k),
    ),
    "max": (
        sn.max,
        lambda x, a, k: (
            x.amax()
            if a is None and not k
            else torch.amax(x, dim=a if a is not None else tuple(range(x.ndim)), keepdim=k)
        ),
    ),
    "min": (
        sn.min,
        lambda x, a, k: (
            x.amin()
            if a is None and not k
            else torch.amin(x, dim=a if a is not None else tuple(range(x.ndim)), keepdim=k)
        ),
    ),
    "var": (sn.var, lambda x, a, k: torch.var(x, dim=a, keepdim=k, correction=0)),
    "logsumexp": (
        sn.logsumexp,
        lambda x, a, k: torch.logsumexp(
            x, dim=a if a is not None else tuple(range(x.ndim)), keepdim=k
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("keepdims", [False, True])
@given(shape=nonscalar_shapes, seed=seeds, data=st.data())
def test_reduction_matches_torch(name, keepdims, shape, seed, data):
    ours, theirs = REDUCTIONS[name]
    axis = data.draw(st.sampled_from(axis_choices(len(shape))))
    if (
        name == "var"
        and np.prod([shape[a] for a in np.atleast_1d(axis)] if axis is not None else shape) < 2
    ):
        shape = shape[:-1] + (shape[-1] + 1,)  # variance of one value is 0: give it two
    check_op(
        lambda x: ours(x, axis, keepdims),
        lambda x: theirs(x, axis, keepdims),
        [normal(seed, shape)],
    )


def test_var_ddof_one_matches_torch_default():
    x = normal(3, (4, 5))
    check_op(lambda t: t.var(axis=1, ddof=1), lambda t: torch.var(t, dim=1), [x])


def test_max_ties_share_gradient_like_torch_amax():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    check_op(lambda t: t.max(axis=1), lambda t: torch.amax(t, dim=1), [x], gradcheck_inputs=False)
    check_op(lambda t: t.max(), lambda t: torch.max(t), [x], gradcheck_inputs=False)


def test_logsumexp_of_minus_infinity_rows_is_minus_infinity():
    x = sn.tensor([[-np.inf, -np.inf], [0.0, 0.0]])
    out = sn.logsumexp(x, axis=1)
    assert out.data[0] == -np.inf
    assert out.data[1] == pytest.approx(np.log(2.0))


def test_axis_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range .* 2 dimensions"):
        sn.tensor(np.ones((2, 3))).sum(axis=2)
