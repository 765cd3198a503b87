"""to_torch / from_torch: copies of the same network compute the same outputs on both sides."""

import sys
from collections import OrderedDict

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


def _set_batchnorm_state(bn, seed):
    """Non-trivial statistics and affine parameters, as after some training."""
    data = np.random.default_rng(seed)
    c = bn.num_features
    if bn.track_running_stats:
        bn.running_mean = data.normal(size=c).astype(bn.running_mean.dtype)
        bn.running_var = data.uniform(0.5, 2.0, size=c).astype(bn.running_var.dtype)
        bn.num_batches_tracked = np.array(7, dtype=np.int64)
    if bn.affine:
        bn.weight.data[...] = data.uniform(0.5, 1.5, size=c)
        bn.bias.data[...] = data.normal(scale=0.2, size=c)


def mlp_tanh():
    return nn.Sequential(
        nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 8, rng=1), nn.Tanh(), nn.Linear(8, 1, rng=2)
    )


def mlp_relu_softmax():
    return nn.Sequential(
        nn.Linear(784, 64, rng=0), nn.ReLU(), nn.Linear(64, 10, rng=1), nn.Softmax()
    )


def deep(p=0.25):
    """Every supported layer, BatchNorm1d in each configuration, a nested Sequential."""
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(6, 16, rng=0),
        nn.BatchNorm1d(16),
        nn.LeakyReLU(0.1),
        nn.Dropout(p, rng=0),
        nn.Sequential(nn.Linear(16, 16, rng=1), nn.BatchNorm1d(16, momentum=None), nn.ELU(0.7)),
        nn.Linear(16, 16, rng=2),
        nn.BatchNorm1d(16, eps=1e-3, momentum=0.3, affine=False),
        nn.GELU(),
        nn.Linear(16, 16, bias=False, rng=3),
        nn.BatchNorm1d(16, track_running_stats=False),
        nn.GELU("tanh"),
        nn.Identity(),
        nn.Linear(16, 16, rng=4),
        nn.Softplus(beta=2.0, threshold=3.0),
        nn.Linear(16, 8, rng=5),
        nn.Sigmoid(),
        nn.Linear(8, 3, rng=6),
        nn.LogSoftmax(axis=1),
    )
    for i, m in enumerate(model.modules()):
        if isinstance(m, nn.BatchNorm1d):
            _set_batchnorm_state(m, i)
    return model


def sequence():
    """3-D inputs: BatchNorm1d over (N, C, L), Linear on the last axis, Softmax over axis 1."""
    bn = nn.BatchNorm1d(4)
    _set_batchnorm_state(bn, 0)
    return nn.Sequential(
        bn, nn.Linear(5, 6, rng=0), nn.Softmax(axis=1), nn.Flatten(1, 2), nn.Linear(24, 2, rng=1)
    )


def normalized(eps=0.0):
    """Standardization inside the model (issue 14.4), on raw columns of very different scales."""
    raw = np.random.default_rng(0).normal([0.0, 50.0, -3.0, 2e3], [1.0, 20.0, 0.01, 5e2], (40, 4))
    return nn.Sequential(
        nn.Normalization(eps=eps).adapt(raw),
        nn.Linear(4, 8, rng=0),
        nn.ReLU(),
        nn.Linear(8, 3, rng=1),
    )


ARCHITECTURES = {
    "normalized": (normalized, (4,)),
    "tanh": (mlp_tanh, (2,)),
    "relu-softmax": (mlp_relu_softmax, (784,)),
    "deep": (deep, (2, 3)),
    "sequence": (sequence, (4, 5)),
}


def _build(name, dtype, **kwargs):
    build, input_shape = ARCHITECTURES[name]
    return build(**kwargs).astype(dtype), input_shape


def _inputs(input_shape, dtype, batch=9, seed=3):
    return np.random.default_rng(seed).normal(size=(batch, *input_shape)).astype(dtype)


def _sinapsi_forward(model, x):
    return model(sn.Tensor(x, dtype=x.dtype)).data


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_round_trip_sinapsi_torch_sinapsi(name, dtype):
    model, input_shape = _build(name, dtype)
    model.eval()
    back = from_torch(to_torch(model))
    assert repr(back) == repr(model)
    assert_same_state(back, model)
    assert [p.requires_grad for p in back.parameters()] == [True] * len(list(model.parameters()))
    x = _inputs(input_shape, dtype)
    np.testing.assert_array_equal(sn.predict(back, x), sn.predict(model, x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_torch_matches_sinapsi_in_eval_mode(name, dtype):
    model, input_shape = _build(name, dtype)
    model.eval()
    module = to_torch(model)
    assert not module.training and not any(m.training for m in module.modules())
    assert all(p.dtype == getattr(torch, dtype) for p in module.parameters())
    x = _inputs(input_shape, dtype)
    expected = sn.predict(model, x)
    got = torch_forward(module, x)
    assert got.dtype == np.dtype(dtype)
    assert_close(got, expected, RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["deep", "sequence", "normalized"])
def test_torch_matches_sinapsi_in_train_mode(name, dtype):
    """Batch statistics, running-statistics updates and gradients agree (Dropout p=0)."""
    model, input_shape = _build(name, dtype, **({"p": 0.0} if name == "deep" else {}))
    model.train()
    module = to_torch(model)
    assert module.training and all(m.training for m in module.modules())
    assert_same_training_step(model, module, _inputs(input_shape, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_torch_sinapsi_torch(dtype):
    tdtype = getattr(torch, dtype)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 8),
        torch.nn.BatchNorm1d(8, momentum=None),
        torch.nn.ReLU(inplace=True),
        torch.nn.Dropout(0.1),
        torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Softplus(beta=1.5, threshold=10.0)),
        torch.nn.Linear(4, 3),
        torch.nn.LogSoftmax(dim=-1),
    ).to(tdtype)
    net.train()
    net(torch.randn(16, 5, dtype=tdtype))  # moves the running statistics
    net.eval()
    model = from_torch(net)
    assert all(p.dtype == np.dtype(dtype) for p in model.parameters())
    assert model[1].momentum is None and int(model[1].num_batches_tracked) == 1
    again = to_torch(model)
    a, b = again.state_dict(), net.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
    x = _inputs((5,), dtype)
    assert_close(sn.predict(model, x), torch_forward(net, x), RTOL[dtype])
    np.testing.assert_array_equal(torch_forward(again, x), torch_forward(net, x))


def test_weights_are_copied_not_shared():
    model = deep()
    module = to_torch(model)
    before = model.state_dict()
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            t.add_(1)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    back = from_torch(module)
    torch_before = {k: v.clone() for k, v in module.state_dict().items()}
    for p in back.parameters():
        p.data += 1
    for key, value in module.state_dict().items():
        assert torch.equal(value, torch_before[key])


def test_modes_and_requires_grad_are_carried_per_module():
    model = deep()
    model.train()
    model[2].eval()  # a BatchNorm1d in eval mode inside a model in training
    model[5].eval()  # a nested Sequential
    model[1].weight.requires_grad = False
    module = to_torch(model)
    assert module.training and not module[2].training
    assert not module[5].training and not module[5][1].training and module[7].training
    assert not module[1].weight.requires_grad and module[1].bias.requires_grad
    back = from_torch(module)
    assert [m.training for m in back.modules()] == [m.training for m in model.modules()]
    assert [p.requires_grad for p in back.parameters()] == [
        p.requires_grad for p in model.parameters()
    ]


def test_single_layers_and_named_children():
    layer = nn.Linear(3, 2, rng=0)
    wrapped = to_torch(layer)
    assert isinstance(wrapped, torch.nn.Sequential) and isinstance(wrapped[0], torch.nn.Linear)
    named = torch.nn.Sequential(
        OrderedDict(fc1=torch.nn.Linear(3, 4), act=torch.nn.GELU("tanh"), fc2=torch.nn.Linear(4, 1))
    )
    model = from_torch(named)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert model[1].approximate == "tanh"
    single = from_torch(torch.nn.ELU(alpha=0.5))
    assert isinstance(single, nn.Sequential) and single[0].alpha == 0.5


def test_dropout_masks_follow_rng():
    net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Dropout(0.5))
    x = _inputs((4,), "float32")
    outputs = [_sinapsi_forward(from_torch(net, rng=7), x) for _ in range(2)]
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert (outputs[0] == 0).any()


def test_model_from_torch_trains_in_sinapsi():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 16),
        torch.nn.BatchNorm1d(16),
        torch.nn.Tanh(),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(16, 2),
    )
    original = {k: v.clone() for k, v in net.state_dict().items()}
    model = from_torch(net, rng=0)
    data = np.random.default_rng(0)
    x = data.normal(size=(64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    history = sn.fit(model, x, y, epochs=1, batch_size=16, seed=0, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert not np.array_equal(model[0].weight.data, original["0.weight"].numpy())
    assert int(model[1].num_batches_tracked) == 4
    for key, value in net.state_dict().items():
        assert torch.equal(value, original[key]), key  # the torch module is untouched


# ----------------------------------------------------------------------------- errors


class CustomTorch(torch.nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize(
    ("module", "error", "pattern"),
    [
        (
            torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Conv3d(1, 1, 3)),
            TypeError,
            r"from_torch cannot convert Conv3d \(at '1'\)\. Supported layers: torch\.nn\.Linear, "
            r"torch\.nn\.BatchNorm1d, .*torch\.nn\.Conv2d.*",
        ),
        (
            torch.nn.Sequential(torch.nn.Sequential(CustomTorch()), torch.nn.ModuleList()),
            TypeError,
            r"cannot convert CustomTorch \(at '0\.0'\), ModuleList \(at '1'\)",
        ),
        (np.zeros(3), TypeError, r"needs a torch\.nn\.Module.*Received: an object of type ndarray"),
        (
            torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax()),
            ValueError,
            r"torch\.nn\.Softmax\(dim=None\).*Give the axis explicitly",
        ),
        (
            torch.nn.Sequential(torch.nn.Linear(2, 2)).half(),
            TypeError,
            r"float32 and float64 models; '0\.weight' is torch\.float16.*module\.float\(\)",
        ),
    ],
)
def test_from_torch_errors(module, error, pattern):
    with pytest.raises(error, match=pattern):
        from_torch(module)


class CustomSinapsi(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        (
            nn.Sequential(nn.Linear(2, 2), nn.Embedding(3, 2)),
            r"to_torch cannot convert Embedding \(at '1'\)\. Supported layers: nn\.Linear, "
            r"nn\.BatchNorm1d, .*nn\.LogSoftmax",
        ),
        (CustomSinapsi(), r"cannot convert CustomSinapsi \(at 'the top'\)"),
        (torch.nn.Linear(2, 2), r"needs a sinapsi nn\.Module.*Received: an object of type Linear"),
    ],
)
def test_to_torch_errors(model, pattern):
    with pytest.raises(TypeError, match=pattern):
        to_torch(model)


def test_missing_torch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"to_torch needs PyTorch.*pip install torch"):
        to_torch(mlp_tanh())
    with pytest.raises(ImportError, match=r"from_torch needs PyTorch.*pip install torch"):
        from_torch(object())


# ----------------------------------------------------------------------------- Normalization


def test_normalization_twin_is_a_small_torch_module():
    from sinapsi.interop.torch_layers import Normalization as TorchNormalization

    model = normalized(eps=1e-3)
    module = to_torch(model)
    twin = module[0]
    assert type(twin) is TorchNormalization and isinstance(twin, torch.nn.Module)
    assert repr(twin) == "Normalization(num_features=4, eps=0.001)"
    assert list(twin.state_dict()) == ["mean", "scale"]
    assert not list(twin.parameters())  # buffers: never trained
    np.testing.assert_array_equal(twin.mean.numpy(), model[0].mean)
    np.testing.assert_array_equal(twin.scale.numpy(), model[0].scale)
    back = from_torch(module)
    assert type(back[0]) is nn.Normalization and back[0].eps == 1e-3
    assert_same_state(back, model)


def test_normalization_forward_and_input_gradient_match_torch():
    from sinapsi.interop.torch_layers import Normalization as TorchNormalization
    from sinapsi.testing import check_module

    layer = normalized(eps=0.5)[0]
    x = np.random.default_rng(1).normal([0.0, 50.0, -3.0, 2e3], [1.0, 20.0, 0.01, 5e2], (6, 4))
    check_module(layer, TorchNormalization(4, eps=0.5), [x])
    check_module(layer, TorchNormalization(4, eps=0.5), [x.reshape(3, 2, 4)], training=False)


def test_normalization_twin_survives_torch_save(tmp_path):
    module = to_torch(normalized())
    torch.save(module, tmp_path / "m.pt")
    again = torch.load(tmp_path / "m.pt", weights_only=False)
    x = _inputs((4,), "float32")
    np.testing.assert_array_equal(torch_forward(again, x), torch_forward(module, x))


def test_normalization_without_statistics_is_refused():
    with pytest.raises(ValueError, match=r"to_torch: layer '0', Normalization\(3\), has no "
                       r"statistics yet.*adapt"):  # fmt: skip
        to_torch(nn.Sequential(nn.Normalization(3), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match=r"to_torch: layer '0', Normalization\(\), has no"):
        to_torch(nn.Normalization())


# ----------------------------------------------------------------------------- hunted defects


def test_a_shared_layer_stays_shared_both_ways():
    """A layer used twice (tied weights) was copied twice, so training the copy untied them."""
    shared = nn.Linear(3, 3, rng=0)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    module = to_torch(model)
    assert module[0] is module[2]
    tied = torch.nn.Linear(3, 3)
    back = from_torch(torch.nn.Sequential(tied, torch.nn.Tanh(), tied))
    assert back[0] is back[2]
    assert list(back.state_dict()) == ["0.weight", "0.bias"]
    x = _inputs((3,), "float32")
    assert_close(torch_forward(module, x), sn.predict(model, x), RTOL["float32"])


@pytest.mark.parametrize("convert", ["to_torch", "from_torch"])
def test_mixed_dtypes_are_refused(convert):
    """A float32 layer beside a float64 one converted silently into a module that cannot run."""
    if convert == "to_torch":
        model = nn.Sequential(nn.Linear(3, 3, rng=0), nn.Linear(3, 2, rng=1, dtype="float64"))
        call, fix = to_torch, r"model\.astype\('float32'\)"
    else:
        model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 2).double())
        call, fix = from_torch, r"module\.float\(\)"
    torch_ = "torch." if convert == "from_torch" else ""
    with pytest.raises(TypeError, match=rf"{convert}: the model mixes dtypes \['{torch_}float32', "
                       rf"'{torch_}float64'\] \('0\.weight' is .*{fix}"):  # fmt: skip
        call(model)


def test_float16_buffers_are_refused():
    model = nn.Sequential(nn.BatchNorm1d(3, affine=False).astype("float16"))
    with pytest.raises(TypeError, match=r"to_torch converts float32 and float64 models; "
                       r"'0\.running_mean' is float16"):  # fmt: skip
        to_torch(model)
