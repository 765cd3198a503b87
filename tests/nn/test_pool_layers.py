"""Pooling layers, BatchNorm2d, Dropout2d and Unflatten: torch's names and values, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.testing import check_module

torch = pytest.importorskip("torch")


def distinct(shape, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) / n - 0.5) * 4.0


LAYERS = [
    ("MaxPool2d", dict(kernel_size=2)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)),
    ("MaxPool2d", dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ("AvgPool2d", dict(kernel_size=2)),
    (
        "AvgPool2d",
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),
    ("AvgPool2d", dict(kernel_size=(3, 3), padding=1, divisor_override=4)),
    ("AdaptiveAvgPool2d", dict(output_size=1)),
    ("AdaptiveAvgPool2d", dict(output_size=(3, None))),
]


@pytest.mark.parametrize(("name", "kwargs"), LAYERS)
def test_pool_layers_match_torch(name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    check_module(ours, theirs, [distinct((2, 3, 9, 8))])
    check_module(ours, theirs, [distinct((3, 9, 8), seed=1)])  # unbatched
    for attr in kwargs:
        want = getattr(theirs, attr)
        assert getattr(ours, attr) == want, (attr, getattr(ours, attr), want)
    assert ours.state_dict() == {} and list(ours.parameters()) == []


def test_attributes_and_defaults_are_torchs():
    for ours, theirs in [
        (nn.MaxPool2d(3), torch.nn.MaxPool2d(3)),
        (nn.MaxPool2d([3, 2], [1, 2]), torch.nn.MaxPool2d((3, 2), (1, 2))),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.AvgPool2d(2, 1), torch.nn.AvgPool2d(2, 1)),
        (nn.AdaptiveAvgPool2d([2, 3]), torch.nn.AdaptiveAvgPool2d((2, 3))),
    ]:
        names = {
            "MaxPool2d": ["kernel_size", "stride", "padding", "dilation", "ceil_mode"],
            "AvgPool2d": ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                          "divisor_override"],
            "AdaptiveAvgPool2d": ["output_size"],
        }[type(ours).__name__]  # fmt: skip
        for attr in names:
            assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert repr(nn.MaxPool2d(2)).startswith("MaxPool2d(")


@pytest.mark.parametrize(
    "layer",
    [
        nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        nn.MaxPool2d([2, 3], stride=[1, 2], dilation=[2, 1]),
        nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=3),
        nn.AdaptiveAvgPool2d([None, 2]),
        nn.Dropout2d(0.25),
        nn.Unflatten(1, (2, 4, 4)),
        nn.BatchNorm2d(2, eps=1e-3, momentum=None, affine=False),
    ],
)
def test_get_config_round_trips_through_save_and_load(layer, tmp_path):
    x = distinct((3, 32)) if isinstance(layer, nn.Unflatten) else distinct((3, 2, 8, 8))
    model = nn.Sequential(layer)
    model.eval()
    before = model(sn.tensor(x)).data
    path = sn.save(model, tmp_path / "m.npz")
    loaded = sn.load(path)
    loaded.eval()
    twin = loaded[0] if hasattr(loaded, "__getitem__") else loaded
    assert type(twin) is type(layer)
    assert twin.get_config() == layer.get_config()
    np.testing.assert_array_equal(loaded(sn.tensor(x)).data, before)
    type(layer)(**layer.get_config())  # the config is the constructor's arguments


def test_batchnorm2d_round_trip_keeps_running_statistics(tmp_path):
    bn = nn.BatchNorm2d(3)
    bn(sn.tensor(distinct((4, 3, 5, 5))))
    loaded = sn.load(sn.save(nn.Sequential(bn), tmp_path / "bn.npz"))[0]
    np.testing.assert_array_equal(loaded.running_mean, bn.running_mean)
    np.testing.assert_array_equal(loaded.running_var, bn.running_var)
    assert int(loaded.num_batches_tracked) == 1


def test_dropout2d_layer():
    layer = nn.Dropout2d(0.5, rng=0)
    assert layer.p == 0.5 and layer.get_config() == {"p": 0.5}
    x = np.ones((4, 8, 3, 3), "float32")
    out = layer(x).data
    per_channel = out.reshape(4, 8, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # whole channels
    np.testing.assert_array_equal(nn.Dropout2d(0.5, rng=0)(x).data, out)  # seeded
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x)
    with pytest.raises(ValueError, match=r"^Dropout2d: p must be a probability in \[0, 1\]"):
        nn.Dropout2d(1.5)
    layer.train()
    with pytest.raises(
        ValueError, match=r"^Dropout2d\(p=0.5\) expects input of shape \(N, C, H, W\) or "
        r"\(C, H, W\); got \(4, 8\)\."
    ):  # fmt: skip
        layer(np.ones((4, 8)))


def test_unflatten_matches_torch_and_checks_the_size():
    for dim, size, shape in [
        (1, (2, 3, 4), (5, 24)),
        (-1, [4, -1], (2, 3, 8)),
        (0, (2, 3), (6, 2)),
    ]:
        ours, theirs = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, tuple(size))
        x = distinct(shape)
        check_module(ours, theirs, [x])
        assert ours.dim == theirs.dim and ours.unflattened_size == theirs.unflattened_size
    with pytest.raises(
        ValueError,
        match=r"^Unflatten\(1, \(1, 28, 28\)\) cannot split axis 1 of size 785 into "
        r"\(1, 28, 28\); got input shape \(64, 785\)\.",
    ):
        nn.Unflatten(1, (1, 28, 28))(np.zeros((64, 785)))
    with pytest.raises(ValueError, match=r"^Unflatten\(3, \(2, 2\)\) .*axis 3.*shape \(4, 4\)"):
        nn.Unflatten(3, (2, 2))(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"^Unflatten: unflattened_size must be"):
        nn.Unflatten(1, (2, 0))
    with pytest.raises(ValueError, match=r"^Unflatten: unflattened_size must be"):
        nn.Unflatten(1, (-1, -1))


def test_pool_layer_errors_name_the_layer_and_the_shape():
    with pytest.raises(
        ValueError,
        match=r"^MaxPool2d\(kernel_size=2, stride=2\) expects input of shape \(N, C, H, W\) or "
        r"\(C, H, W\); got \(5, 5\)\.",
    ):
        nn.MaxPool2d(2)(np.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"^AvgPool2d\(kernel_size=3.*got \(2, 3, 4, 5, 6\)\."):
        nn.AvgPool2d(3)(np.zeros((2, 3, 4, 5, 6)))
    with pytest.raises(
        ValueError, match=r"^AdaptiveAvgPool2d\(output_size=1\) expects .*got \(7,\)"
    ):
        nn.AdaptiveAvgPool2d(1)(np.zeros(7))
    with pytest.raises(ValueError, match=r"^MaxPool2d\(kernel_size=3, stride=3\): .*too small.*"
                       r"\(1, 1, 2, 2\)"):  # fmt: skip
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 2)))
    with pytest.raises(
        ValueError, match=r"^MaxPool2d: kernel_size must be positive\. Received: kernel_size=0"
    ):
        nn.MaxPool2d(0)
    with pytest.raises(ValueError, match=r"^AvgPool2d: padding must be at most half"):
        nn.AvgPool2d(2, padding=2)
    with pytest.raises(ValueError, match=r"^AdaptiveAvgPool2d: output_size must be"):
        nn.AdaptiveAvgPool2d((2, 0))
