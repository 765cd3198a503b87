"""ops.bce_with_logits_mean: binary_cross_entropy_with_logits' default reduction as one node,
bit for bit the composition mean(bce_with_logits(...)), against PyTorch and finite
differences, replayed by sinapsi.capture."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn, ops
from sinapsi.tensor import Tensor
from sinapsi.testing import check_op, check_replay

SHAPES = [(5, 3), (1,), (), (0, 3), (7, 1), (2, 3, 4)]


def _inputs(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) * 4).astype(dtype)
    if z.size:
        z.reshape(-1)[0] = 60.0  # a large logit: the stable form must not overflow
    return z, rng.uniform(0.0, 1.0, shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("target_grad", [False, True])
def test_the_same_bits_as_the_composition_forward_and_backward(shape, dtype, target_grad):
    z, y = _inputs(shape, dtype)
    results = []
    for fused in (True, False):
        a = Tensor(z, requires_grad=True, dtype=dtype)
        b = Tensor(y, requires_grad=target_grad, dtype=dtype)
        loss = ops.bce_with_logits_mean(a, b) if fused else ops.mean(ops.bce_with_logits(a, b))
        loss.backward()
        results.append((loss.data, a.grad, b.grad))
    (loss, gz, gy), (loss_ref, gz_ref, gy_ref) = results
    terms = ops.bce_with_logits(Tensor(z, dtype=dtype), Tensor(y, dtype=dtype)).data
    expression = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    assert terms.tobytes() == np.asarray(expression).tobytes()  # the textbook form, bit for bit
    assert loss.dtype == loss_ref.dtype and loss.shape == ()
    assert loss.tobytes() == loss_ref.tobytes()  # bit for bit (NaN at n=0)
    np.testing.assert_array_equal(gz, gz_ref)
    assert gz.dtype == gz_ref.dtype and gz.shape == z.shape
    if target_grad:
        np.testing.assert_array_equal(gy, gy_ref)
    else:
        assert gy is None


@pytest.mark.parametrize("shape", [(5, 3), (1,), (), (2, 3, 4)])
def test_against_torch_and_finite_differences(shape):
    z, y = _inputs(shape, np.float64, seed=3)
    z = z / 10.0  # finite differences need moderate logits
    check_op(
        ops.bce_with_logits_mean,
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b),
        [z, y],
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_replays(shape, dtype):
    z, y = _inputs(shape, dtype)
    check_replay(ops.bce_with_logits_mean, z, y)
    check_replay(ops.bce_with_logits_mean, z, y, raw=[1])


def test_the_loss_uses_it_for_its_default_only(monkeypatch):
    calls = []
    fused = ops.bce_with_logits_mean
    monkeypatch.setattr(ops, "bce_with_logits_mean", lambda *a: calls.append(1) or fused(*a))
    z, y = _inputs((4, 2), np.float32)
    loss = nn.binary_cross_entropy_with_logits(sn.tensor(z), y)
    assert calls == [1]
    expected = ops.mean(ops.bce_with_logits(sn.tensor(z), y)).data
    np.testing.assert_array_equal(loss.data, expected)
    for kw in ({"reduction": "sum"}, {"weight": np.ones(2)}, {"pos_weight": np.ones(2)}):
        nn.binary_cross_entropy_with_logits(sn.tensor(z), y, **kw)
    assert calls == [1]
