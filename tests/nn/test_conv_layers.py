"""nn.Conv2d and nn.Conv1d: PyTorch's arguments, attributes, initialization and state_dict, the
same outputs and gradients as torch's layers loaded with our weights, padding modes, save/load,
and the one-line errors."""

import math

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi.testing import check_module

LAYERS_2D = [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=2, out_channels=4, kernel_size=(2, 3), stride=(2, 1), padding=(1, 0)),
    dict(in_channels=4, out_channels=4, kernel_size=3, padding="same", groups=4, bias=False),
    dict(in_channels=2, out_channels=2, kernel_size=2, padding="valid", dilation=2),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="reflect"),
    dict(
        in_channels=2, out_channels=3, kernel_size=(3, 2), padding="same", padding_mode="replicate"
    ),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=(2, 1), padding_mode="circular"),
]


@pytest.mark.parametrize("kwargs", LAYERS_2D)
def test_conv2d_layer_matches_torch_with_our_weights(kwargs):
    ours = sn.nn.Conv2d(**kwargs, rng=0)
    theirs = torch.nn.Conv2d(**kwargs)
    x = np.random.default_rng(1).standard_normal((2, kwargs["in_channels"], 7, 6))
    check_module(ours, theirs, [x])
    check_module(ours, theirs, [x[0]])  # unbatched


LAYERS_1D = [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=2, out_channels=4, kernel_size=2, stride=2, padding=1, dilation=2),
    dict(in_channels=2, out_channels=2, kernel_size=4, padding="same", groups=2),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="reflect"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding="same", padding_mode="circular"),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's own
@pytest.mark.parametrize("kwargs", LAYERS_1D)
def test_conv1d_layer_matches_torch_with_our_weights(kwargs):
    ours = sn.nn.Conv1d(**kwargs, rng=0)
    theirs = torch.nn.Conv1d(**kwargs)
    x = np.random.default_rng(1).standard_normal((3, kwargs["in_channels"], 9))
    check_module(ours, theirs, [x])
    check_module(ours, theirs, [x[0]])


def test_conv2d_attributes_and_state_dict_keys_are_torchs():
    ours = sn.nn.Conv2d(3, 8, [5, 3], stride=2, padding=1, groups=1)
    theirs = torch.nn.Conv2d(3, 8, (5, 3), stride=2, padding=1)
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "groups", "padding_mode"):  # fmt: skip
        assert getattr(ours, name) == getattr(theirs, name), name
    assert sn.nn.Conv2d(1, 2, 3, padding="same").padding == "same"
    assert set(ours.state_dict()) == set(theirs.state_dict())
    assert ours.weight.shape == tuple(theirs.weight.shape) == (8, 3, 5, 3)
    assert ours.weight.dtype == np.float32
    assert sn.nn.Conv2d(1, 2, 3, bias=False).bias is None
    assert sn.nn.Conv2d(1, 2, 3, dtype="float64").weight.dtype == np.float64
    conv1 = sn.nn.Conv1d(4, 6, 3, groups=2)
    assert conv1.kernel_size == (3,) and conv1.stride == (1,) and conv1.padding == (0,)
    assert conv1.weight.shape == (6, 2, 3)


@pytest.mark.parametrize(
    ("ours", "theirs", "fan_in"),
    [
        (lambda: sn.nn.Conv2d(6, 16, 5, rng=3), lambda: torch.nn.Conv2d(6, 16, 5), 6 * 25),
        (lambda: sn.nn.Conv2d(8, 8, 3, groups=4, rng=4),
         lambda: torch.nn.Conv2d(8, 8, 3, groups=4), 2 * 9),
        (lambda: sn.nn.Conv1d(3, 50, 7, rng=5), lambda: torch.nn.Conv1d(3, 50, 7), 3 * 7),
    ],
)  # fmt: skip
def test_default_init_is_torchs_uniform_with_the_kernel_fan_in(ours, theirs, fan_in):
    layer = ours()
    torch.manual_seed(0)
    twin = theirs()
    bound = 1 / math.sqrt(fan_in)
    for mine, torchs in ((layer.weight.data, twin.weight), (layer.bias.data, twin.bias)):
        torchs = torchs.detach().numpy()
        assert np.abs(mine).max() <= bound and np.abs(torchs).max() <= bound
        if mine.size > 100:  # both fill U(-bound, bound): same range and spread
            assert np.abs(mine).max() > 0.95 * bound and np.abs(torchs).max() > 0.95 * bound
            assert abs(mine.std() - bound / math.sqrt(3)) < 0.1 * bound
            assert abs(mine.std() - torchs.std()) < 0.1 * bound


def test_named_init_zeroes_the_bias_and_rng_repeats():
    layer = sn.nn.Conv2d(2, 4, 3, init="he", rng=0)
    assert np.all(layer.bias.data == 0)
    assert abs(layer.weight.data.std() - math.sqrt(2 / 18)) < 0.05
    same = sn.nn.Conv2d(2, 4, 3, init="he", rng=0)
    np.testing.assert_array_equal(layer.weight.data, same.weight.data)


@pytest.mark.parametrize(
    "layer",
    [
        sn.nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0), rng=0),
        sn.nn.Conv2d(4, 4, 3, padding="same", groups=2, bias=False, padding_mode="reflect", rng=1),
        sn.nn.Conv2d(1, 3, 3, init="xavier", dilation=2, rng=2),
        sn.nn.Conv1d(2, 3, 3, padding="same", padding_mode="replicate", rng=3),
    ],
)
def test_save_load_round_trip(layer, tmp_path):
    model = sn.nn.Sequential(layer, sn.nn.ReLU())
    path = sn.save(model, tmp_path / "conv.sinapsi")
    loaded = sn.load(path)
    again = loaded[0]
    assert type(again) is type(layer)
    assert again.get_config() == layer.get_config()
    x = np.random.default_rng(0).standard_normal(
        (2, layer.in_channels) + (7, 6)[: layer.weight.ndim - 2]
    )
    np.testing.assert_allclose(loaded(x.astype("float32")).data, model(x.astype("float32")).data)
    rebuilt = type(layer)(**layer.get_config())
    assert rebuilt.get_config() == layer.get_config()


def test_conv2d_forward_errors_name_the_layer():
    layer = sn.nn.Conv2d(1, 32, 3)
    with pytest.raises(
        ValueError,
        match=r"^Conv2d\(1 -> 32, kernel_size=\(3, 3\)\) expects input of shape \(N, 1, H, W\) "
        r"or \(1, H, W\); got \(64, 3, 28, 28\)\.$",
    ):
        layer(np.zeros((64, 3, 28, 28), "float32"))
    with pytest.raises(ValueError, match=r"^Conv2d\(1 -> 32, kernel_size=\(3, 3\)\) expects"):
        layer(np.zeros((28, 28), "float32"))
    with pytest.raises(
        ValueError,
        match=r"^Conv1d\(2 -> 3, kernel_size=\(5,\)\) expects input of shape \(N, 2, L\) or "
        r"\(2, L\); got \(4, 3, 20\)\.$",
    ):
        sn.nn.Conv1d(2, 3, 5)(np.zeros((4, 3, 20), "float32"))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(in_channels=0, out_channels=2, kernel_size=3), ValueError,
         r"^Conv2d: in_channels must be a positive integer\. Received: in_channels=0$"),
        (dict(in_channels=3, out_channels=2, kernel_size=3, groups=2), ValueError,
         r"^Conv2d: groups=2 must divide in_channels=3 and out_channels=2"),
        (dict(in_channels=2, out_channels=2, kernel_size=(3, 3, 3)), TypeError,
         r"^Conv2d: kernel_size must be an int or a tuple of 2 ints; got \(3, 3, 3\)"),
        (dict(in_channels=2, out_channels=2, kernel_size=3, stride=2, padding="same"), ValueError,
         r"^Conv2d: padding='same' needs stride 1"),
        (dict(in_channels=2, out_channels=2, kernel_size=3, padding="full"), ValueError,
         r"^Conv2d: padding must be 'same', 'valid', an int or a tuple of 2 ints; got 'full'"),
        (dict(in_channels=2, out_channels=2, kernel_size=3, padding_mode="mirror"), ValueError,
         r"^Conv2d: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular'; "
         r"got 'mirror'"),
        (dict(in_channels=2, out_channels=2, kernel_size=3, bias=1), TypeError,
         r"^Conv2d: bias must be True or False"),
    ],
)  # fmt: skip
def test_conv2d_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        sn.nn.Conv2d(**kwargs)


def test_summary_shows_conv_output_shapes():
    model = sn.nn.Sequential(sn.nn.Conv2d(1, 4, 3, padding=1), sn.nn.ReLU(), sn.nn.Conv2d(4, 2, 3))
    out = model(np.zeros((5, 1, 8, 8), "float32"))
    assert out.shape == (5, 2, 6, 6)
    assert "Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in repr(model)
