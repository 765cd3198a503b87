"""batch_norm on (N, C, H, W) and dropout2d: against torch, layouts kept, seeded masks."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import _numba, nn, ops
from sinapsi.testing import check_module, check_op

torch = pytest.importorskip("torch")
F = torch.nn.functional


def images(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2.0 + 0.5


def channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def kernels(request):
    """Each test twice: with the numba kernels (when numba is installed) and on NumPy."""
    with _numba.use_kernels(request.param):
        yield request.param


@pytest.mark.parametrize("layout", ["nchw", "channels_last", "strided"])
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (1, 2, 3, 3), (2, 3, 1, 1)])
def test_batch_norm_op_on_images_matches_torch_in_training(shape, layout, kernels):
    c = shape[1]
    w, b = images((c,), 1), images((c,), 2)

    def ours(x, weight, bias):
        rm, rv = np.zeros(c, x.dtype), np.ones(c, x.dtype)
        if layout == "channels_last":
            x = sn.Tensor(channels_last(x.data), dtype=x.dtype)
        elif layout == "strided":
            x = x[:, :, :, ::-1]
        out = ops.batch_norm(x, weight, bias, rm, rv, True, 0.1, 1e-5)
        return out[:, :, :, ::-1] if layout == "strided" else out

    def theirs(x, weight, bias):
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=1e-5)

    if layout == "channels_last":  # our input is a copy: compare outputs and the weights' grads
        check_op(ours, theirs, [images(shape), w, b], requires_grad=[False, True, True],
                 gradcheck_inputs=False)  # fmt: skip
    else:
        check_op(ours, theirs, [images(shape), w, b])


def test_batch_norm_op_on_images_in_eval_matches_torch(kernels):
    rm, rv = images((3,), 3), np.abs(images((3,), 4)) + 0.5

    def ours(x, weight, bias):
        return ops.batch_norm(x, weight, bias, rm.astype(x.dtype), rv.astype(x.dtype), False,
                              0.1, 1e-5)  # fmt: skip

    def theirs(x, weight, bias):
        return F.batch_norm(x, torch.tensor(rm, dtype=x.dtype), torch.tensor(rv, dtype=x.dtype),
                            weight, bias, training=False, eps=1e-5)  # fmt: skip

    check_op(ours, theirs, [images((2, 3, 4, 5)), images((3,), 1), images((3,), 2)])


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.3}, {"momentum": None}, {"affine": False}, {"eps": 1e-3},
     {"track_running_stats": False}],
)  # fmt: skip
def test_batchnorm2d_training_steps_match_torch(kwargs, kernels):
    x = images((4, 3, 5, 6), 5)
    check_module(nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs), [x], steps=3)


def test_batchnorm2d_eval_matches_torch_after_training_steps(kernels):
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal((8, 3, 4, 4)) * 2 + 3
        ours(sn.tensor(x))
        theirs(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-5)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 5
    ours.weight.data[:] = [0.5, 1.0, 2.0]
    check_module(ours, theirs, [images((1, 3, 4, 4), 6)], training=False)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("grad_layout", ["same", "nchw"])
def test_batch_norm_keeps_a_channels_last_layout(kernels, training, grad_layout):
    data = images((4, 20, 5, 6))  # 20 channels: more than one SIMD vector of them
    x = sn.Tensor(channels_last(data), dtype="float64", requires_grad=True)
    bn, tbn = nn.BatchNorm2d(20).astype("float64"), torch.nn.BatchNorm2d(20).double()
    bn.weight.data[:] = tbn.weight.data.numpy()[:] = np.linspace(0.5, 2, 20)
    bn.train(training)
    tbn.train(training)
    out = bn(x)
    assert out.data.transpose(0, 2, 3, 1).flags.c_contiguous
    t = torch.tensor(data, requires_grad=True)
    ref = tbn(t)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = images(out.shape, 9)
    out.backward(channels_last(g) if grad_layout == "same" else g)
    ref.backward(torch.tensor(g))
    if grad_layout == "same" or training:  # eval: dx = g * scale, in g's layout
        assert x.grad.transpose(0, 2, 3, 1).flags.c_contiguous
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(bn.weight.grad, tbn.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(bn.bias.grad, tbn.bias.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-10)


def test_batchnorm2d_errors_name_the_layer_and_the_shape():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(
        ValueError, match=r"^BatchNorm2d\(3\) expects input of shape \(N, 3, H, W\); got \(4, 3\)\."
    ):
        bn(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"^BatchNorm2d\(3\) expects .*got \(4, 2, 5, 5\)\."):
        bn(np.ones((4, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"^batch_norm: training needs more than 1 value"):
        bn(np.ones((1, 3, 1, 1)))
    with pytest.raises(ValueError, match=r"^BatchNorm2d: momentum must be in \[0, 1\]"):
        nn.BatchNorm2d(3, momentum=2.0)
    assert isinstance(bn, nn.BatchNorm1d)
    assert set(bn.state_dict()) == set(torch.nn.BatchNorm2d(3).state_dict())


# --------------------------------------------------------------------------- dropout2d


@pytest.mark.parametrize("shape", [(6, 8, 3, 4), (8, 3, 4)])
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest(shape):
    x = sn.Tensor(images(shape) + 10.0, dtype="float64", requires_grad=True)  # no zero values
    p = 0.4
    out = ops.dropout2d(x, p, np.random.default_rng(0))
    channels = out.data.reshape(-1, *shape[-2:])
    kept = np.abs(channels).sum(axis=(1, 2)) > 0
    source = x.data.reshape(-1, *shape[-2:])
    np.testing.assert_allclose(channels[kept], source[kept] / (1 - p))
    assert (channels[~kept] == 0).all()
    assert 0 < kept.sum() < kept.size
    out.backward(np.ones(shape))
    grad = x.grad.reshape(-1, *shape[-2:])
    np.testing.assert_allclose(grad[kept], 1 / (1 - p))
    assert (grad[~kept] == 0).all()


def test_dropout2d_is_seeded_identity_in_eval_and_rate_close_to_p():
    x = np.ones((200, 50, 2, 2), "float32")
    a = ops.dropout2d(x, 0.3, np.random.default_rng(7))
    b = ops.dropout2d(x, 0.3, np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32
    dropped = (a.data[:, :, 0, 0] == 0).mean()
    assert abs(dropped - 0.3) < 0.02
    t = sn.Tensor(x)
    assert ops.dropout2d(t, 0.3, np.random.default_rng(0), training=False) is t
    assert ops.dropout2d(t, 0.0, np.random.default_rng(0)) is t
    assert (ops.dropout2d(t, 1.0, np.random.default_rng(0)).data == 0).all()


def test_dropout2d_keeps_channels_last_and_checks_its_arguments():
    x = channels_last(images((4, 3, 5, 6)))
    out = ops.dropout2d(x, 0.5, np.random.default_rng(0))
    assert out.data.transpose(0, 2, 3, 1).flags.c_contiguous
    with pytest.raises(ValueError, match=r"^dropout2d: p must be a probability in \[0, 1\]"):
        ops.dropout2d(x, 1.5, np.random.default_rng(0))
    with pytest.raises(
        ValueError, match=r"^dropout2d: expected input of shape \(N, C, H, W\) or \(C, H, W\); "
        r"got shape \(4, 3\)"
    ):  # fmt: skip
        ops.dropout2d(np.ones((4, 3)), 0.5, np.random.default_rng(0))
