"""The convolution and pooling layers replay (what sinapsi.capture runs), as modules: each is
called through check_replay with its parameters swapped for the checker's tensors, so new
weights are written in place between rounds and their gradients are compared too."""

import numpy as np
import pytest

from sinapsi import nn
from sinapsi.testing import check_replay

DTYPES = [np.float32, np.float64]


def _owner(layer, name):
    """The module holding parameter ``name`` (a dotted path) and the parameter's own name."""
    *path, leaf = name.split(".")
    for part in path:
        layer = getattr(layer, part)
    return layer, leaf


def _check_layer(layer, x):
    """check_replay of ``layer(x)`` with the layer's parameters as the checked inputs."""
    saved = dict(layer.named_parameters())
    arrays = [np.array(p.data) for p in saved.values()]

    def fn(x, *params):
        for name, p in zip(saved, params):
            owner, leaf = _owner(layer, name)
            owner._parameters[leaf] = p  # the checker's tensor, written in place each round
        return layer(x)

    try:
        check_replay(fn, x, *arrays)
    finally:
        for name, p in saved.items():
            owner, leaf = _owner(layer, name)
            owner._parameters[leaf] = p


CONV2D = [
    # (input shape, constructor arguments)
    ((2, 3, 7, 6), {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": 1}),
    ((1, 1, 8, 8), {"in_channels": 1, "out_channels": 3, "kernel_size": 3, "stride": 2}),
    (
        (2, 4, 6, 5),
        dict(
            in_channels=4,
            out_channels=6,
            kernel_size=(2, 3),
            groups=2,
            dilation=2,
            padding="same",
            bias=False,
        ),
    ),
    ((1, 3, 4, 4), {"in_channels": 3, "out_channels": 2, "kernel_size": 4}),  # kernel == input
    ((2, 5, 3, 3), {"in_channels": 5, "out_channels": 5, "kernel_size": 1, "groups": 5}),
    ((3, 6, 7), {"in_channels": 3, "out_channels": 2, "kernel_size": 3, "padding": 2}),  # unbatched
]


@pytest.mark.parametrize("xs, kwargs", CONV2D)
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_layer_replays(kernels, rng, xs, kwargs, dtype):
    layer = nn.Conv2d(**kwargs, rng=0, dtype=dtype)
    _check_layer(layer, rng.standard_normal(xs).astype(dtype))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_layer_with_a_padding_mode_replays(rng, mode):
    """The padding modes run ops.pad before an unpadded conv: both replay."""
    layer = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, rng=0, dtype=np.float64)
    _check_layer(layer, rng.standard_normal((2, 2, 5, 6)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "xs, kwargs",
    [
        ((2, 3, 9), {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2}),
        ((1, 1, 7), {"in_channels": 1, "out_channels": 2, "kernel_size": 2, "padding": "same"}),
        ((4, 6), {"in_channels": 4, "out_channels": 2, "kernel_size": 3, "groups": 2}),
    ],
)
def test_conv1d_layer_replays(kernels, rng, xs, kwargs, dtype):
    layer = nn.Conv1d(**kwargs, rng=0, dtype=dtype)
    _check_layer(layer, rng.standard_normal(xs).astype(dtype))


POOLS = [
    (nn.MaxPool2d(2), (2, 3, 8, 7)),
    (nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (1, 2, 7, 6)),
    (nn.MaxPool2d((1, 2), dilation=(1, 2)), (3, 5, 5)),  # unbatched
    (nn.AvgPool2d(2), (1, 1, 4, 6)),
    (nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 7, 7)),
    (nn.AvgPool2d(2, divisor_override=3, ceil_mode=True), (2, 2, 5, 5)),
    (nn.AdaptiveAvgPool2d(1), (2, 3, 5, 4)),
    (nn.AdaptiveAvgPool2d((3, None)), (1, 2, 7, 5)),
]


@pytest.mark.parametrize("layer, xs", POOLS, ids=lambda v: repr(v) if isinstance(v, nn.Module)
                         else None)  # fmt: skip
@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_layer_replays(kernels, rng, layer, xs, dtype):
    _check_layer(layer, rng.standard_normal(xs).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_small_convnet_replays(kernels, rng, dtype):
    """Layers in a row: channels-last activations flow from each conv into the next layer."""
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=0, dtype=dtype),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, rng=1, dtype=dtype),
        nn.AvgPool2d(2, stride=1),
        nn.Conv2d(6, 6, 1, groups=3, rng=2, dtype=dtype),
        nn.MaxPool2d(3, stride=1, padding=1),
        nn.AdaptiveAvgPool2d(1),
    )
    _check_layer(model, rng.standard_normal((3, 1, 12, 11)).astype(dtype))
