"""to_torch / from_torch of convnets: weights, buffers, arguments and outputs equal both ways."""

import numpy as np
import pytest
from bridge_checks import (
    DTYPES,
    RTOL,
    assert_same_state,
    assert_same_training_step,
    torch_forward,
)

import sinapsi as sn
from sinapsi import nn
from sinapsi.interop import from_torch, to_torch
from sinapsi.testing import assert_close

torch = pytest.importorskip("torch")


def _set_batchnorm(bn, seed):
    data = np.random.default_rng(seed)
    c = bn.num_features
    dtype = bn.running_mean.dtype
    bn.running_mean = data.normal(size=c).astype(dtype)
    bn.running_var = data.uniform(0.5, 2.0, size=c).astype(dtype)
    bn.num_batches_tracked = np.array(5, dtype=np.int64)
    bn.weight.data[...] = data.uniform(0.5, 1.5, size=c)
    bn.bias.data[...] = data.normal(scale=0.2, size=c)
    return bn


def convnet(p=0.25):
    """Every new layer in one network, the conv options that change the arithmetic included."""
    return nn.Sequential(
        nn.Unflatten(1, (2, 10, 9)),
        nn.Conv2d(2, 8, 3, padding="same", rng=0),
        _set_batchnorm(nn.BatchNorm2d(8), 1),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        nn.Dropout2d(p, rng=0),
        nn.Conv2d(8, 8, (3, 2), stride=(1, 2), padding=(2, 1), dilation=2, groups=4, rng=2),
        nn.Tanh(),
        nn.Conv2d(8, 6, 3, padding=1, padding_mode="reflect", bias=False, rng=3),
        _set_batchnorm(nn.BatchNorm2d(6, momentum=None), 4),
        nn.AvgPool2d(2, 1, 1, ceil_mode=True, count_include_pad=False),
        nn.AdaptiveAvgPool2d((2, None)),
        nn.Flatten(),
        nn.Linear(6 * 2 * 4, 5, rng=5),
    )


def conv1d_net():
    return nn.Sequential(
        nn.Conv1d(3, 4, 3, stride=2, padding=1, rng=0),
        nn.ReLU(),
        nn.Conv1d(4, 4, 3, padding="same", dilation=2, groups=2, padding_mode="circular", rng=1),
        nn.Flatten(),
        nn.Linear(24, 2, rng=2),
    )


ARCHITECTURES = {"convnet": (convnet, (180,)), "conv1d": (conv1d_net, (3, 12))}


def _inputs(input_shape, dtype, batch=6, seed=3):
    return np.random.default_rng(seed).normal(size=(batch, *input_shape)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_round_trip_sinapsi_torch_sinapsi(name, dtype):
    build, input_shape = ARCHITECTURES[name]
    model = build().astype(dtype)
    model.eval()
    back = from_torch(to_torch(model))
    assert repr(back) == repr(model)
    assert [m.get_config() for m in back.modules()] == [m.get_config() for m in model.modules()]
    assert_same_state(back, model)
    x = _inputs(input_shape, dtype)
    np.testing.assert_array_equal(sn.predict(back, x), sn.predict(model, x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_torch_matches_sinapsi_in_eval_mode(name, dtype):
    build, input_shape = ARCHITECTURES[name]
    model = build().astype(dtype)
    model.eval()
    module = to_torch(model)
    assert all(p.dtype == getattr(torch, dtype) for p in module.parameters())
    x = _inputs(input_shape, dtype)
    got = torch_forward(module, x)
    assert got.dtype == np.dtype(dtype)
    assert_close(got, sn.predict(model, x), RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_matches_sinapsi_in_train_mode(dtype):
    """Batch statistics of BatchNorm2d, running statistics and every gradient agree."""
    model = convnet(p=0.0).astype(dtype)
    model.train()
    module = to_torch(model)
    scale = assert_same_training_step(model, module, _inputs((180,), dtype), dtype)
    assert np.abs(model[1].weight.grad).max() > 1e-3 * scale  # a gradient that is not noise


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_torch_sinapsi_torch(dtype):
    tdtype = getattr(torch, dtype)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5),
        torch.nn.BatchNorm2d(6),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, dilation=1),
        torch.nn.Dropout2d(0.2),
        torch.nn.Conv2d(6, 16, 5, padding="valid", padding_mode="replicate"),
        torch.nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False, divisor_override=3),
        torch.nn.AdaptiveAvgPool2d((1, 1)),
        torch.nn.Flatten(),
        torch.nn.Unflatten(1, (4, 4)),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 10),
    ).to(tdtype)
    net.train()
    net(torch.randn(8, 1, 28, 28, dtype=tdtype))  # moves the running statistics
    net.eval()
    model = from_torch(net)
    assert all(p.dtype == np.dtype(dtype) for p in model.parameters())
    assert isinstance(model[0], nn.Conv2d) and isinstance(model[1], nn.BatchNorm2d)
    assert int(model[1].num_batches_tracked) == 1
    assert model[6].divisor_override == 3 and model[5].padding_mode == "replicate"
    again = to_torch(model)
    a, b = again.state_dict(), net.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
    assert repr(again) == repr(net)
    x = _inputs((1, 28, 28), dtype)
    assert_close(sn.predict(model, x), torch_forward(net, x), RTOL[dtype])
    np.testing.assert_array_equal(torch_forward(again, x), torch_forward(net, x))


def test_conv1d_from_torch():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv1d(3, 4, 3, stride=2, bias=False), torch.nn.ReLU())
    model = from_torch(net)
    assert model[0].bias is None and tuple(model[0].stride) == (2,)
    x = _inputs((3, 15), "float32")
    assert_close(sn.predict(model, x), torch_forward(net, x), 1e-5)


def test_dropout2d_masks_follow_rng():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 1), torch.nn.Dropout2d(0.5))
    x = _inputs((1, 3, 3), "float32")
    outputs = []
    for _ in range(2):
        model = from_torch(net, rng=7)
        outputs.append(model(sn.Tensor(x)).data)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    dropped = (outputs[0] == 0).all(axis=(2, 3))
    assert dropped.any() and not dropped.all(), "whole channels are dropped, not all of them"


def test_weights_are_copied_not_shared():
    model = convnet()
    module = to_torch(model)
    before = model.state_dict()
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            t.add_(1)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_unsupported_torch_options():
    net = torch.nn.Sequential(torch.nn.Identity(), torch.nn.MaxPool2d(2, return_indices=True))
    with pytest.raises(ValueError) as info:
        from_torch(net)
    assert str(info.value) == (
        "from_torch: torch.nn.MaxPool2d with return_indices=True has no sinapsi twin; build it "
        "with return_indices=False (the default)."
    )


def test_unsupported_layers_still_named():
    with pytest.raises(TypeError, match=r"cannot convert Conv3d \(at '1'\).*torch\.nn\.Conv2d"):
        from_torch(torch.nn.Sequential(torch.nn.Identity(), torch.nn.Conv3d(1, 1, 3)))
