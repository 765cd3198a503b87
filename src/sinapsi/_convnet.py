"""A configured convnet (``[model] conv = [...]`` in a run's TOML): its shapes, its layers, the
per-channel standardization of its images and the random shifts that augment its training set.

Kept apart from :mod:`sinapsi.experiment`, which builds a multilayer perceptron the same way
(:func:`~sinapsi.experiment.build_mlp`, reused here for the layers after the conv blocks) and
runs either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .backend import new_rng
from .train.callbacks import Callback

__all__ = ["conv_shapes", "build_convnet", "image_standardizer", "shift_images", "RandomShift"]


def conv_shapes(
    image_shape: Sequence[int],
    conv: Sequence[int],
    kernel_size: int = 3,
    padding: str = "same",
    pool: int = 2,
) -> list[tuple[int, int, int]]:
    """The (C, H, W) after each conv block (Conv2d, then MaxPool2d(pool) when pool > 1), as
    PyTorch computes them (pooling floors). Raises ValueError naming the block where the
    images shrink to nothing.

    >>> conv_shapes((1, 28, 28), [32, 64])
    [(32, 14, 14), (64, 7, 7)]
    """
    _, height, width = image_shape
    shapes = []
    for block, channels in enumerate(conv, start=1):
        if padding == "valid":
            height, width = height - kernel_size + 1, width - kernel_size + 1
        if pool > 1 and height > 0 and width > 0:
            height, width = height // pool, width // pool
        if height <= 0 or width <= 0:
            advice = "use fewer conv blocks or a smaller pool"
            if padding == "valid":
                advice = "use fewer conv blocks, a smaller pool or kernel_size, or padding = 'same'"
            raise ValueError(
                f"conv = {list(conv)} with kernel_size = {kernel_size}, padding = {padding!r}, "
                f"pool = {pool} shrinks the {image_shape[1]}x{image_shape[2]} images to "
                f"{max(height, 0)}x{max(width, 0)} in block {block}: {advice}."
            )
        shapes.append((channels, height, width))
    return shapes


def build_convnet(
    in_features: int,
    out_features: int,
    image_shape: Sequence[int],
    conv: Sequence[int],
    kernel_size: int = 3,
    padding: str = "same",
    pool: int = 2,
    hidden: Sequence[int] = (),
    activation: str = "relu",
    init: str = "he",
    batch_norm: bool = False,
    dropout: float = 0.0,
    rng: Any = None,
) -> Any:
    """A convnet on flat input rows of ``in_features`` = C*H*W values: ``Unflatten(1, (C, H,
    W))``, then for each entry of ``conv`` a block Conv2d(k x k) -> [BatchNorm2d] ->
    activation -> [MaxPool2d(pool)], then Flatten -> [Dropout] and the multilayer perceptron
    of :func:`~sinapsi.experiment.build_mlp` (``hidden`` layers, then the output).

    Flat rows in, so the saved model takes what ``sinapsi predict`` reads (a CSV row, a
    flattened image), and the Normalization put in front of it (one mean and scale per pixel,
    each channel's repeated: :func:`image_standardizer`) works as for an MLP.

    >>> build_convnet(64, 10, (1, 8, 8), [4], rng=0)  # doctest: +ELLIPSIS
    Sequential(
      (0): Unflatten(...)
      (1): Conv2d(1, 4, ...)
      (2): ReLU()
      (3): MaxPool2d(...)
      (4): Flatten(...)
      (5): Linear(in_features=64, out_features=10, bias=True, init='he')
    )
    """
    from . import nn
    from .experiment import build_mlp

    channels, height, width = (int(n) for n in image_shape)
    if channels * height * width != in_features:
        raise ValueError(
            f"build_convnet: image_shape {tuple(image_shape)} holds {channels * height * width} "
            f"values, but in_features is {in_features}. Pass the shape of one input image."
        )
    shapes = conv_shapes(image_shape, conv, kernel_size, padding, pool)
    rng = new_rng(rng)
    layers: list[Any] = [nn.Unflatten(1, (channels, height, width))]
    size = channels
    for out in conv:
        layers.append(
            nn.Conv2d(
                size, out, kernel_size, padding=padding, bias=not batch_norm, init=init, rng=rng
            )
        )
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.get_activation(activation))
        if pool > 1:
            layers.append(nn.MaxPool2d(pool))
        size = out
    layers.append(nn.Flatten())
    if dropout:
        layers.append(nn.Dropout(dropout, rng=rng))
    flat = int(np.prod(shapes[-1]))
    mlp = build_mlp(flat, hidden, out_features, activation, init, batch_norm, dropout, rng)
    return nn.Sequential(*layers, *mlp)


def image_standardizer(x_train: np.ndarray, image_shape: Sequence[int]) -> Any:
    """A fitted :class:`~sinapsi.data.Standardizer` holding ONE mean and standard deviation
    per channel (over every training image and pixel), spread over that channel's pixels.

    Why not per pixel, as for an MLP's features: a border pixel that is blank in all but a few
    training digits gets a tiny standard deviation, so a stroke there in a test image becomes
    a value of 50 or more; a pixel blank in every image needs the constant-feature special
    case not to divide by 0; and every pixel ends up in its own units, so a conv filter, which
    applies the same weights at every position, no longer sees the same stroke as the same
    input across the image. One number per channel keeps the image an image, as torchvision's
    ``Normalize((0.1307,), (0.3081,))`` does for MNIST, and is what image users expect.
    """
    from .data import Standardizer

    channels = int(image_shape[0])
    pixels = int(np.prod(image_shape[1:]))
    per_channel = np.asarray(x_train).reshape(len(x_train), channels, pixels)
    mean = per_channel.mean(axis=(0, 2), dtype=np.float64)
    std = per_channel.std(axis=(0, 2), dtype=np.float64)
    std[std == 0] = 1.0  # a blank channel maps to 0 rather than dividing by 0
    scaler = Standardizer()
    scaler.mean_, scaler.scale_ = np.repeat(mean, pixels), np.repeat(std, pixels)
    scaler.n_features_in_ = channels * pixels
    return scaler


def shift_images(
    x: np.ndarray, image_shape: Sequence[int], shift: int, rng: np.random.Generator
) -> np.ndarray:
    """Each flat image row of ``x`` moved by its own random (dy, dx), each in [-shift, shift]
    pixels; the pixels moved in repeat the edge (the blank background of a digit)."""
    channels, height, width = image_shape
    images = x.reshape(len(x), channels, height, width)
    pad = ((0, 0), (0, 0), (shift, shift), (shift, shift))
    padded = np.pad(images, pad, mode="edge")
    offsets = rng.integers(0, 2 * shift + 1, size=(2, len(x)))
    out = np.empty_like(images)
    for dy in range(2 * shift + 1):
        for dx in range(2 * shift + 1):
            rows = np.flatnonzero((offsets[0] == dy) & (offsets[1] == dx))
            out[rows] = padded[rows, :, dy : dy + height, dx : dx + width]
    return out.reshape(x.shape)


class RandomShift(Callback):
    """Augments the training set ``x`` (the very array given to ``fit``, flat rows) before
    each epoch with :func:`shift_images` of the original images, and puts the originals back
    when training ends: every epoch trains on fresh shifts, at the cost of one copy of ``x``.

    ``fit`` takes arrays, not a Dataset with transforms, so the augmentation rewrites the
    array it batches from, in place; the validation and test sets are never shifted.
    """

    def __init__(self, x: np.ndarray, image_shape: Sequence[int], shift: int, rng: Any = None):
        self.x, self.image_shape, self.shift = x, tuple(image_shape), int(shift)
        self.original = x.copy()
        self.rng = new_rng(rng)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.x[...] = shift_images(self.original, self.image_shape, self.shift, self.rng)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.x[...] = self.original


def convnet_bytes(
    architecture: dict[str, Any], optimizer: str, batch_size: int, eval_rows: int
) -> tuple[int, int]:
    """``(parameters, activations)`` in bytes of :func:`build_convnet`'s network in float32,
    as :func:`sinapsi._runs.model_bytes` counts an MLP's: the conv blocks' weights (with their
    gradients, optimizer state and a best copy) and, per sample, each block's im2col columns
    and ~4 maps of its output (conv, norm, activation, their gradients), plus the MLP after."""
    from . import _runs

    a = architecture
    k2, size = a["kernel_size"] ** 2, a["image_shape"][0]
    height, width = a["image_shape"][1:]
    params = per_sample = 0
    for out, shape in zip(a["conv"], conv_shapes(**_shape_args(a))):
        params += size * k2 * out + out + 4 * out * a["batch_norm"]
        if a["padding"] == "valid":
            height, width = height - a["kernel_size"] + 1, width - a["kernel_size"] + 1
        per_sample += (size * k2 + 4 * out) * height * width
        size, height, width = shape
    flat = int(np.prod(shape))
    mlp_params, mlp_acts = _runs.model_bytes(
        [flat, *a["hidden"], a["out_features"]], a["batch_norm"], optimizer, batch_size, eval_rows
    )
    copies = 3 + _runs._OPTIMIZER_SLOTS.get(optimizer, 2)
    rows = max(batch_size * 2, eval_rows)
    return 4 * copies * params + mlp_params, 4 * rows * per_sample + mlp_acts


def _shape_args(a: dict[str, Any]) -> dict[str, Any]:
    keys = ("image_shape", "conv", "kernel_size", "padding", "pool")
    return {k: a[k] for k in keys}


def plan_lines(architecture: dict[str, Any]) -> list[str]:
    """What ``sinapsi train`` prints of a convnet before training: the image shape through the
    blocks, and what each block and hidden layer holds."""
    a = architecture
    shapes = [tuple(a["image_shape"]), *conv_shapes(**_shape_args(a))]
    path = " -> ".join("x".join(map(str, s)) for s in shapes)
    sizes = [int(np.prod(shapes[-1])), *a["hidden"], a["out_features"]]
    block = [f"Conv2d({a['kernel_size']}x{a['kernel_size']}, {a['padding']}, init={a['init']})"]
    block += ["BatchNorm2d"] * a["batch_norm"] + [a["activation"]]
    block += [f"MaxPool2d({a['pool']})"] * (a["pool"] > 1)
    lines = [f"{path} -> {' -> '.join(map(str, sizes))}", f"each conv block: {' + '.join(block)}"]
    if a["dropout"]:
        where = "Flatten and after each hidden layer" if a["hidden"] else "Flatten"
        lines.append(f"Dropout({a['dropout']:g}) after {where}")
    return lines


def convnet_architecture(
    model: dict[str, Any], image_shape: Sequence[int], origin: str
) -> dict[str, Any]:
    """The keys :func:`build_convnet` takes beyond an MLP's, from a checked ``[model]`` table
    and the data's image shape; conv blocks that leave no pixels of the images (an mnist
    folder's image size is known only now) are a one-line ConfigError."""
    from .config import ConfigError

    out = {"image_shape": [int(n) for n in image_shape]}
    out.update({k: model[k] for k in ("conv", "kernel_size", "padding", "pool")})
    try:
        conv_shapes(**out)
    except ValueError as e:
        raise ConfigError(f"{origin}: [model] {e}") from None
    return out


def shift_callback(cfg: dict[str, Any], x_train: np.ndarray, image_shape: Any) -> RandomShift:
    """``[data] random_shift``'s callback over the training rows, with a random stream of its
    own (the fifth child of the seed: the run's four others stay as they were without it)."""
    stream = np.random.SeedSequence(cfg["training"]["seed"]).spawn(5)[4]
    return RandomShift(x_train, image_shape, cfg["data"]["random_shift"], stream)
