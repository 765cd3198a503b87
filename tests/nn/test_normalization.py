"""BatchNorm1d against torch.nn.BatchNorm1d: outputs, gradients and running statistics."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn
from sinapsi.testing import check_module
from strategies import normal


@pytest.mark.parametrize("shape", [(8, 5), (6, 5, 3)])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.3}, {"momentum": None}, {"affine": False}, {"eps": 1e-3},
     {"track_running_stats": False}],
)  # fmt: skip
def test_batchnorm_training_steps_match_torch(shape, kwargs):
    x = normal(2, shape) * 3 + 1.5
    check_module(nn.BatchNorm1d(5, **kwargs), torch.nn.BatchNorm1d(5, **kwargs), [x], steps=4)


@pytest.mark.parametrize("shape", [(8, 5), (1, 5), (6, 5, 3)])
def test_batchnorm_eval_uses_running_statistics_like_torch(shape):
    bn = nn.BatchNorm1d(5)
    bn.running_mean[:] = np.linspace(-1, 1, 5)
    bn.running_var[:] = np.linspace(0.5, 2, 5)
    bn.weight.data[:] = np.linspace(0.5, 1.5, 5)
    check_module(bn, torch.nn.BatchNorm1d(5), [normal(3, shape)], training=False)


def test_running_statistics_after_training_match_torch():
    ours, theirs = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    rng = np.random.default_rng(0)
    for _ in range(10):
        x = rng.standard_normal((16, 4)) * 2 + 3
        ours(sn.tensor(x))
        theirs(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-5)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 10


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel .* model.eval\(\)"):
        bn(sn.tensor(np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) expects input of shape \(N, 3\)"):
        bn(sn.tensor(np.ones((4, 2))))
    with pytest.raises(
        ValueError,
        match=r"momentum must be in \[0, 1\] or None. Received: "
        r"momentum=1.5",
    ):
        nn.BatchNorm1d(3, momentum=1.5)
    bn.eval()
    assert bn(sn.tensor(np.ones((1, 3)))).shape == (1, 3)  # single sample is fine in eval


def test_float64_model_keeps_float64_for_raw_array_input():
    bn = nn.BatchNorm1d(3).astype("float64")
    out = bn(np.random.default_rng(0).standard_normal((4, 3)))
    assert out.dtype == np.float64
