"""The TOML schema of a convnet: [model] conv, kernel_size, padding, pool; [data] source =
"mnist_5k", image_shape, random_shift; every mistake a one-line ConfigError by regex."""

import pytest

from sinapsi._convnet import conv_shapes
from sinapsi.config import ConfigError, validate_config


def check(data=None, model=None, training=None):
    raw = {"data": data or {"source": "digits"}, "model": model or {}}
    if training:
        raw["training"] = training
    return validate_config(raw, "run.toml")


def test_conv_defaults_fill_in_only_for_a_convnet():
    cfg = check(model={"conv": [8, 16]})
    model = cfg["model"]
    assert model["conv"] == [8, 16]
    assert (model["kernel_size"], model["padding"], model["pool"]) == (3, "same", 2)
    mlp = check()["model"]  # an MLP's configuration is as before: no conv keys set
    assert all(mlp[k] is None for k in ("conv", "kernel_size", "padding", "pool"))
    assert check(model={"conv": []})["model"]["conv"] is None  # no blocks: an MLP


def test_conv_keys_as_written():
    cfg = check(
        {"source": "mnist_5k", "random_shift": 2},
        {"conv": [32], "kernel_size": 5, "padding": "valid", "pool": 1},
    )
    assert cfg["model"]["kernel_size"] == 5 and cfg["model"]["padding"] == "valid"
    assert cfg["model"]["pool"] == 1 and cfg["data"]["random_shift"] == 2
    csv = check({"source": "csv", "path": "x.csv", "image_shape": [3, 4, 4]}, {"conv": [4]})
    assert csv["data"]["image_shape"] == [3, 4, 4]


@pytest.mark.parametrize(
    "data, model, message",
    [
        (
            {"source": "iris"},
            {"conv": [8]},
            r"^run\.toml: \[model\] conv needs images, but source = 'iris' has no image shape\. "
            r"Use an image source \('digits', 'mnist', 'mnist_5k'\), or source = 'csv' with "
            r"\[data\] image_shape = \[C, H, W\]; or remove conv for a multilayer perceptron\.$",
        ),
        (
            {"source": "csv", "path": "x.csv"},
            {"conv": [8]},
            r"^run\.toml: \[model\] conv needs the shape of the images in the CSV rows: add "
            r"\[data\] image_shape = \[C, H, W\], e\.g\. \[1, 28, 28\] for 784 pixel columns\.$",
        ),
        (
            {"source": "digits"},
            {"kernel_size": 3},
            r"^run\.toml: \[model\] kernel_size applies to a convnet only: add conv = \[32, 64\] "
            r"\(the channels of each conv block\), or remove kernel_size\.$",
        ),
        (
            {"source": "digits"},
            {"conv": [8], "padding": "full"},
            r"The 'padding' key of \[model\] must be a str among \{'same', 'valid'\}\. "
            r"Got 'full' instead\.$",
        ),
        ({"source": "digits"}, {"conv": [0]}, r"\[model\] conv must hold layer sizes >= 1"),
        ({"source": "digits"}, {"conv": [8], "pool": 0}, r"\[model\] pool must be >= 1\."),
        ({"source": "digits"}, {"conv": [8], "kernel_size": 0}, r"kernel_size must be >= 1\."),
        (
            {"source": "digits"},
            {"conv": [8, 8, 8, 8]},
            r"^run\.toml: \[model\] conv = \[8, 8, 8, 8\] with kernel_size = 3, padding = "
            r"'same', pool = 2 shrinks the 8x8 images to 0x0 in block 4: use fewer conv blocks "
            r"or a smaller pool\.$",
        ),
        (
            {"source": "digits"},
            {"conv": [8], "kernel_size": 9, "padding": "valid"},
            r"shrinks the 8x8 images to 0x0 in block 1: use fewer conv blocks, a smaller pool "
            r"or kernel_size, or padding = 'same'\.$",
        ),
        (
            {"source": "digits", "image_shape": [1, 8, 8]},
            {"conv": [8]},
            r"^run\.toml: \[data\] image_shape applies only to source = 'csv' \| 'mnist'; "
            r"source is 'digits'\. Remove image_shape\.$",
        ),
        (
            {"source": "csv", "path": "x.csv", "image_shape": [28, 28]},
            {"conv": [8]},
            r"^run\.toml: \[data\] image_shape must be \[C, H, W\] \(channels, height, width\), "
            r"three integers >= 1, e\.g\. \[1, 28, 28\]\. Got image_shape = \[28, 28\]\.$",
        ),
        (
            {"source": "moons", "random_shift": 1},
            {},
            r"^run\.toml: \[data\] random_shift needs images, but source = 'moons' has no image "
            r"shape\.",
        ),
        ({"source": "digits", "random_shift": -1}, {}, r"random_shift must be >= 0\."),
        (
            {"source": "digits", "random_shift": 8},
            {},
            r"^run\.toml: \[data\] random_shift = 8 moves the 8x8 images by up to 8 pixels, "
            r"their whole size: use a shift of 1 to 3 pixels\.$",
        ),
    ],
)
def test_convnet_mistakes_are_one_line(data, model, message):
    with pytest.raises(ConfigError, match=message) as e:
        check(data, model)
    assert "\n" not in str(e.value)


def test_mnist_5k_needs_no_path_and_takes_no_path():
    assert check({"source": "mnist_5k"})["data"]["path"] is None
    with pytest.raises(ConfigError, match=r"\[data\] path applies only to source = 'csv'"):
        check({"source": "mnist_5k", "path": "x"})


def test_conv_shapes():
    assert conv_shapes((1, 28, 28), [32, 64]) == [(32, 14, 14), (64, 7, 7)]
    assert conv_shapes((1, 28, 28), [32, 64], 3, "valid", 2) == [(32, 13, 13), (64, 5, 5)]
    assert conv_shapes((3, 8, 8), [4], 5, "same", 1) == [(4, 8, 8)]
    assert conv_shapes((1, 7, 7), [4], 3, "same", 2) == [(4, 3, 3)]  # floor, as MaxPool2d
    with pytest.raises(ValueError, match=r"to 0x0 in block 2"):
        conv_shapes((1, 4, 4), [2, 2], 3, "valid", 1)
