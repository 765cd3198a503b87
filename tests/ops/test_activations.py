"""Activations (primitive and composite) and softmax/log_softmax: PyTorch parity, finite
differences, and stability for |x| up to 1e4 in float32."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import sinapsi as sn
from sinapsi.testing import check_op
from strategies import away_from, nonscalar_shapes, normal, seeds, shapes

ACTIVATIONS = {
    "sigmoid": (sn.sigmoid, torch.sigmoid),
    "tanh": (sn.tanh, torch.tanh),
    "relu": (sn.relu, torch.relu),
    "leaky_relu": (sn.leaky_relu, F.leaky_relu),
    "leaky_relu_0.2": (lambda x: sn.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    "elu": (sn.elu, F.elu),
    "elu_alpha": (lambda x: sn.elu(x, 0.5), lambda x: F.elu(x, 0.5)),
    "gelu": (sn.gelu, F.gelu),
    "gelu_tanh": (lambda x: sn.gelu(x, "tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "softplus": (sn.softplus, F.softplus),
    "softplus_beta": (lambda x: sn.softplus(x, 2.0, 5.0), lambda x: F.softplus(x, 2.0, 5.0)),
    "relu6": (sn.relu6, F.relu6),
    "silu": (sn.silu, F.silu),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(shape=shapes, seed=seeds)
def test_activation_matches_torch(name, shape, seed):
    ours, theirs = ACTIVATIONS[name]
    x = away_from(seed, shape, [0.0]) * 3  # stay off the kink at 0 for finite differences
    check_op(ours, theirs, [x])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradient_at_kinks_matches_torch(name):
    ours, theirs = ACTIVATIONS[name]
    x = np.array([0.0, 6.0, 20.0, 2.5, -1.0])  # 0 and 6 are kinks; 20 is softplus's threshold
    check_op(ours, theirs, [x], gradcheck_inputs=False)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@given(shape=nonscalar_shapes, seed=seeds, data=st.data())
def test_softmax_family_matches_torch(fn, shape, seed, data):
    axis = data.draw(st.sampled_from(list(range(-len(shape), len(shape)))))
    check_op(
        lambda x: getattr(sn, fn)(x, axis),
        lambda x: getattr(torch, fn)(x, axis),
        [normal(seed, shape) * 3],
    )


STABLE = dict(ACTIVATIONS)
STABLE["softmax"] = (lambda x: sn.softmax(x, 0), lambda x: torch.softmax(x, 0))
STABLE["log_softmax"] = (lambda x: sn.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0))
STABLE["logsumexp"] = (lambda x: sn.logsumexp(x), lambda x: torch.logsumexp(x, 0))


@pytest.mark.parametrize("name", sorted(STABLE))
def test_stable_for_huge_inputs_in_float32(name):
    """No overflow, no NaN, for |x| up to 1e4 in float32: forward and gradient finite and equal
    to PyTorch's. NumPy RuntimeWarnings (overflow, invalid) are errors in this suite."""
    ours, theirs = STABLE[name]
    x = np.array([-1e4, -100.0, -30.0, -1.0, 0.5, 30.0, 100.0, 1e4], dtype=np.float32)
    t = sn.tensor(x, requires_grad=True)
    out = ours(t)
    assert np.isfinite(out.data).all(), f"{name} forward: {out.data}"
    out.backward(np.ones(out.shape, np.float32))
    assert np.isfinite(t.grad).all(), f"{name} backward: {t.grad}"
    check_op(ours, theirs, [x.astype(np.float64)], gradcheck_inputs=False)


def test_log_softmax_is_exact_where_naive_log_of_softmax_underflows():
    x = sn.tensor([0.0, -200.0])
    assert sn.log_softmax(x).data[1] == pytest.approx(-200.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(seed=seeds, n=st.integers(1, 6), c=st.integers(1, 5))
def test_fused_softmax_cross_entropy_matches_torch(reduction, seed, n, c):
    labels = np.random.default_rng(seed).integers(0, c, n)
    check_op(
        lambda z, y: sn.ops.softmax_cross_entropy(z, y.data, reduction),
        lambda z, y: F.cross_entropy(z, y, reduction=reduction),
        [normal(seed, (n, c)) * 3, labels],
    )
