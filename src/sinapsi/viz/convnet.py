"""Inside a convnet: the first layer's filters, the feature maps of one input, and the hierarchy.

- :func:`plot_filters`: a convolution's kernels as small images, blue > 0, orange < 0 (the
  colours of every sinapsi picture). After training on images, the first layer's filters are
  edge, stroke and spot detectors.
- :func:`plot_feature_maps`: one input run through the model, and what every conv block
  (convolution, activation, pooling) makes of it: one row of maps per block.
- :func:`plot_hierarchy`: one picture, a column per conv layer and one for the output: the
  filters, the feature maps of the input, and the patterns that most excite a few units of each
  layer (found by :func:`~sinapsi.viz.attribution.activation_maximization`), so a learner sees
  edges -> strokes -> digits.

The model may take images (N, C, H, W) directly, or flat rows with an ``nn.Unflatten`` in
front (what ``sinapsi train`` saves: Normalization -> Unflatten -> Conv2d ...): the image shape
is read from the Unflatten layer, or from the first Conv2d's ``in_channels`` and the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._colors import POSITIVE, diverging_cmap
from .curves import GREY, style

__all__ = ["plot_filters", "plot_feature_maps", "plot_hierarchy"]


# ------------------------------------------------------------------------- the model's layout
def conv_layers(model: Any, where: str) -> list[tuple[str, Any]]:
    """The model's Conv2d layers in order, named like ``"0 Conv2d"``; a clear error if none."""
    from ..nn.conv import Conv2d
    from ..nn.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"{where}: model must be a sinapsi nn.Module; got {type(model).__name__}.")
    found = [(_name(n, m), m) for n, m in model.named_modules() if isinstance(m, Conv2d)]
    if not found:
        raise ValueError(
            f"{where}: {type(model).__name__} has no Conv2d layer: there are no filters or "
            "feature maps to draw. Build a convnet, e.g. nn.Sequential(nn.Conv2d(1, 8, 3), "
            "nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(...))."
        )
    return found


def _name(name: str, module: Any) -> str:
    return f"{name or 'model'} {type(module).__name__}"


@dataclass(frozen=True)
class Layout:
    """How the model takes one image: ``sample`` is one input's shape as the model takes it
    ((C, H, W), or (C*H*W,) with an Unflatten in front); ``image`` is (C, H, W)."""

    sample: tuple[int, ...]
    image: tuple[int, int, int]

    def batch(self, x: Any, where: str) -> np.ndarray:
        """``x`` (one sample or a batch of them) as a batch of samples."""
        from .. import backend
        from ..tensor import Tensor

        arr = np.asarray(backend.to_numpy(x.data if isinstance(x, Tensor) else x))
        k = len(self.sample)
        if arr.shape == self.sample:
            arr = arr[None]
        if arr.ndim != k + 1 or tuple(arr.shape[1:]) != self.sample:
            raise ValueError(
                f"{where}: x must be one input of shape {self.sample} or a batch of shape "
                f"(n, {', '.join(map(str, self.sample))}) as the model takes it; got shape "
                f"{arr.shape}."
            )
        return arr

    def images(self, batch: np.ndarray) -> np.ndarray:
        """A batch of samples as (n, C, H, W) images."""
        return batch.reshape((len(batch), *self.image))


def layout(model: Any, x: Any = None, input_shape: Any = None, where: str = "viz") -> Layout:
    """Find the image shape the model takes: an ``Unflatten`` before the first Conv2d gives it;
    otherwise the first Conv2d's ``in_channels`` with the height and width of ``x`` (or of
    ``input_shape``, (C, H, W))."""
    from .. import backend
    from ..nn.conv import Conv2d
    from ..nn.layers import Unflatten
    from ..tensor import Tensor

    conv_layers(model, where)
    for module in model.modules():
        if isinstance(module, Unflatten):
            shape = tuple(int(s) for s in module.unflattened_size)
            image = (1, *shape) if len(shape) == 2 else shape
            if len(image) != 3:
                break
            return Layout((int(np.prod(image)),), image)  # type: ignore[arg-type]
        if isinstance(module, Conv2d):
            channels = int(module.in_channels)
            if input_shape is not None:
                shape = tuple(int(s) for s in input_shape)
                if len(shape) == 3 and shape[0] == channels:
                    return Layout(shape, shape)  # type: ignore[arg-type]
                raise ValueError(
                    f"{where}: input_shape must be (C, H, W) with C = {channels}, the first "
                    f"Conv2d's in_channels; got {input_shape!r}."
                )
            if x is not None:
                arr = backend.to_numpy(x.data if isinstance(x, Tensor) else x)
                if arr.ndim in (3, 4) and arr.shape[-3] == channels:
                    image = tuple(int(s) for s in arr.shape[-3:])
                    return Layout(image, image)  # type: ignore[arg-type]
                raise ValueError(
                    f"{where}: the first Conv2d ({module.in_channels} -> {module.out_channels}) "
                    f"takes images with {channels} channel(s), (C, H, W) or (N, C, H, W); got x "
                    f"of shape {arr.shape}."
                )
            break
    raise ValueError(
        f"{where}: cannot tell the image size {type(model).__name__} takes: pass x (one image "
        "(C, H, W) or a batch (N, C, H, W)) or input_shape=(C, H, W)."
    )


def run_recorded(model: Any, batch: np.ndarray) -> list[tuple[str, Any, np.ndarray]]:
    """Run ``batch`` through the model (eval mode, no graph) and return every leaf layer's
    (name, module, output) in the order they ran."""
    from .. import backend
    from ..autograd import no_grad
    from ..nn.module import module_dtype, training_mode
    from ..tensor import Tensor

    names = {id(m): _name(n, m) for n, m in model.named_modules()}
    leaves = [m for m in model.modules() if not list(m.children())]
    records: list[tuple[str, Any, np.ndarray]] = []

    def record(module: Any, inputs: tuple, output: Any) -> None:
        value = output.data if isinstance(output, Tensor) else output
        records.append((names[id(module)], module, np.asarray(backend.to_numpy(value))))

    removers = []
    try:
        removers = [m.register_forward_hook(record) for m in leaves]
        with no_grad(), training_mode(False):
            model(Tensor(batch, dtype=module_dtype(model)))
    finally:
        for remove in removers:
            remove()
    return records


@dataclass
class Block:
    """One conv block: its Conv2d, the last layer of the block that still outputs maps
    (activation, pooling, ...), and those maps for the batch that ran."""

    index: int
    conv_name: str
    conv: Any
    end_name: str
    maps: np.ndarray  # (n, channels, h, w)


def blocks(records: list[tuple[str, Any, np.ndarray]]) -> list[Block]:
    """Cut a recorded run into conv blocks: each starts at a Conv2d and ends at the last
    layer before the next Conv2d (or the first flat output) whose output is still 4-D maps."""
    from ..nn.conv import Conv2d

    found: list[Block] = []
    open_block = False
    for name, module, out in records:
        if isinstance(module, Conv2d):
            found.append(Block(len(found), name, module, name, out))
            open_block = True
        elif open_block and out.ndim == 4 and out.shape[0] == found[-1].maps.shape[0]:
            found[-1].end_name, found[-1].maps = name, out
        else:
            open_block = False
    return found


def pick_conv(model: Any, layer: Any, where: str) -> tuple[int, str, Any]:
    """``layer`` (None: the first; an int: the k-th Conv2d; a Conv2d of the model) as
    (index, name, module)."""
    convs = conv_layers(model, where)
    if layer is None:
        return 0, *convs[0]
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if -len(convs) <= layer < len(convs):
            index = int(layer) % len(convs)
            return index, *convs[index]
        raise ValueError(
            f"{where}: layer={layer} but the model has {len(convs)} Conv2d layer(s) "
            f"({', '.join(n for n, _ in convs)}); pass 0 to {len(convs) - 1}."
        )
    for index, (name, module) in enumerate(convs):
        if module is layer:
            return index, name, module
    raise ValueError(
        f"{where}: layer must be None (the first Conv2d), the index of a Conv2d (0 to "
        f"{len(convs) - 1}) or one of the model's Conv2d layers; got {layer!r}."
    )


# ------------------------------------------------------------------------------ drawing helpers
def show_image(ax: Any, image: np.ndarray, alpha: float = 1.0, **limits: Any) -> Any:
    """One (C, H, W) input image: grey with dark ink for one channel, colour for three, the
    channel mean otherwise; each on its own scale unless ``vmin``/``vmax`` are given."""
    image = np.asarray(image, dtype=np.float64)
    bare(ax)
    if image.shape[0] == 3:
        lo, hi = limits.get("vmin", image.min()), limits.get("vmax", image.max())
        rgb = np.clip((image - lo) / ((hi - lo) or 1.0), 0, 1).transpose(1, 2, 0)
        return ax.imshow(rgb, alpha=alpha, interpolation="nearest")
    grey = image[0] if image.shape[0] == 1 else image.mean(axis=0)
    return ax.imshow(grey, cmap="gray_r", alpha=alpha, interpolation="nearest", **limits)


def bare(ax: Any) -> None:
    """No ticks, no grid, a thin grey frame (so a near-white image still shows its edge)."""
    ax.set(xticks=[], yticks=[])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set(visible=True, color="#b0b0b0", linewidth=0.6)


def _positive_cmap() -> Any:
    """White to the Playground's blue: feature maps after a ReLU (0 = white, strong = blue)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("sinapsi_positive", ["#ffffff", POSITIVE])


def _map_style(values: np.ndarray) -> dict[str, Any]:
    """imshow arguments for feature maps: white-to-blue from 0 when they are all >= 0 (after a
    ReLU), orange-white-blue centred at 0 otherwise; one scale for the whole row."""
    top = float(np.abs(values).max()) or 1.0
    if values.min() >= 0:
        return {"cmap": _positive_cmap(), "vmin": 0.0, "vmax": top}
    return {"cmap": diverging_cmap(), "vmin": -top, "vmax": top}


def _kernels(conv: Any) -> tuple[np.ndarray, str]:
    """The conv's kernels as (out, kh, kw) images, and a note when channels were averaged."""
    from .. import backend

    weight = np.asarray(backend.to_numpy(conv.weight.data), dtype=np.float64)
    if weight.shape[1] == 1:
        return weight[:, 0], ""
    return weight.mean(axis=1), f"each filter averaged over its {weight.shape[1]} input channels"


def _grid(n: int, wide: float = 1.0) -> tuple[int, int]:
    cols = max(1, min(n, math.ceil(math.sqrt(n * wide))))
    return -(-n // cols), cols


# ------------------------------------------------------------------------------------ filters
def plot_filters(model: Any, layer: Any = None, max_filters: int = 64) -> Any:
    """A convolution's kernels as small images (default: the first Conv2d's), one per output
    channel, on one colour scale centred at 0: blue weights > 0, orange < 0, white 0.

    A first-layer filter slides over the image and answers "how much does this patch look like
    me": light-dark pairs are edge detectors, blobs are spot detectors. A filter with several
    input channels (a deeper layer, or colour images) is drawn as its channel mean, and the
    title says so.

    Args:
        model: a convnet. layer: None (the first Conv2d), the index of a Conv2d, or the layer.
        max_filters: draw at most this many (the first ones).

    Returns:
        The matplotlib Figure.
    """
    where = "plot_filters"
    if isinstance(max_filters, bool) or not isinstance(max_filters, int) or max_filters < 1:
        raise ValueError(f"{where}: max_filters must be a positive integer; got {max_filters!r}.")
    index, name, conv = pick_conv(model, layer, where)
    kernels, note = _kernels(conv)
    n = min(len(kernels), max_filters)
    rows, cols = _grid(n, 2.0)
    limit = float(np.abs(kernels[:n]).max()) or 1.0
    kh, kw = kernels.shape[1:]
    with style() as plt:
        panel = 1.0 if n <= 36 else 0.8
        size = (max(cols * panel + 1.4, 5.2), rows * panel + 1.3)
        fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False, layout="constrained")
        image = None
        for k, ax in enumerate(axes.ravel()):
            if k >= n:
                ax.set_axis_off()
                continue
            image = ax.imshow(
                kernels[k], cmap=diverging_cmap(), vmin=-limit, vmax=limit, interpolation="nearest"
            )
            bare(ax)
            ax.set_title(f"filter {k}", fontsize=8, fontweight="normal", pad=2)
        shown = f"{n} filters" if n == len(kernels) else f"the first {n} of {len(kernels)}"
        which = "first convolution" if index == 0 else f"convolution {index + 1}"
        fig.suptitle(
            f"Filters of the {which}\n({name}: {shown}, {kh}x{kw})\nblue > 0, orange < 0, "
            "white 0:\nthe patch each one responds to (edges, strokes, spots)"
            + (f"\n{note}" if note else ""),
            fontsize=11,
        )
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, pad=0.02, aspect=30)
        bar.set_label("weight")
        bar.ax.grid(False)
    return fig


# ------------------------------------------------------------------------------- feature maps
def _one_input(model: Any, x: Any, where: str) -> tuple[Layout, np.ndarray]:
    lay = layout(model, x, None, where)
    batch = lay.batch(x, where)
    if len(batch) < 1:
        raise ValueError(f"{where}: x holds no input (shape {batch.shape}); pass one image.")
    return lay, batch


def _strongest(maps: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` channels with the largest mean activation, in channel order."""
    strength = maps.reshape(maps.shape[0], maps.shape[1], -1).mean(axis=(0, 2))
    return np.sort(np.argsort(-strength, kind="stable")[:count])


def plot_feature_maps(
    model: Any, x: Any, layers: Sequence[int] | None = None, max_maps: int = 16
) -> Any:
    """One input and its feature maps after every conv block (convolution, activation,
    pooling): a row per block, the ``max_maps`` most active maps of each.

    Each map is the block's output for one channel: where in the image that channel's pattern
    was found. Early maps still look like the digit (edges of it); deeper ones are smaller and
    more abstract. One colour scale per row (white 0, blue strong).

    Args:
        model: a convnet. x: one input as the model takes it ((C, H, W), or a flat row when
            the model starts with an Unflatten), or a batch whose first input is drawn.
        layers: indices of the conv blocks to draw (default: all).
        max_maps: at most this many maps per row (the most active ones).

    Returns:
        The matplotlib Figure.
    """
    where = "plot_feature_maps"
    if isinstance(max_maps, bool) or not isinstance(max_maps, int) or max_maps < 1:
        raise ValueError(f"{where}: max_maps must be a positive integer; got {max_maps!r}.")
    lay, batch = _one_input(model, x, where)
    found = blocks(run_recorded(model, batch[:1]))
    chosen = list(range(len(found))) if layers is None else [int(i) for i in layers]
    bad = [i for i in chosen if not 0 <= i < len(found)]
    if bad or not chosen:
        raise ValueError(
            f"{where}: layers must be indices of conv blocks, 0 to {len(found) - 1}; got "
            f"{layers!r}."
        )
    per_row = 8
    shown = {i: _strongest(found[i].maps, max_maps) for i in chosen}
    ncols = min(max(len(shown[i]) for i in chosen), per_row)
    spans = [-(-len(shown[i]) // ncols) for i in chosen]
    with style() as plt:
        fig = plt.figure(
            figsize=(2.4 + 1.05 * ncols + 0.9, 1.15 * sum(spans) + 0.35 * len(chosen) + 1.2),
            layout="constrained",
        )
        grid = fig.add_gridspec(sum(spans), ncols + 1, width_ratios=[2.4] + [1] * ncols)
        ax_in = fig.add_subplot(grid[: min(sum(spans), 3), 0])
        show_image(ax_in, lay.images(batch[:1])[0])
        ax_in.set_title("input", fontsize=10)
        top = 0
        for i, span in zip(chosen, spans):
            block, picked = found[i], shown[i]
            values = block.maps[0, picked]
            kwargs = _map_style(values)
            axes, image = [], None
            for k in range(span * ncols):
                ax = fig.add_subplot(grid[top + k // ncols, 1 + k % ncols])
                axes.append(ax)
                if k >= len(picked):
                    ax.set_axis_off()
                    continue
                image = ax.imshow(values[k], interpolation="nearest", **kwargs)
                bare(ax)
                ax.set_title(f"ch {picked[k]}", fontsize=7, fontweight="normal", pad=1.5)
                if k == 0:
                    _, h, w = block.maps.shape[1:]
                    ax.set_ylabel(
                        f"block {i + 1}\n{block.end_name}\n{block.maps.shape[1]} maps {h}x{w}",
                        fontsize=8,
                    )
            top += span
            if image is not None:
                bar = fig.colorbar(image, ax=axes, shrink=0.85, pad=0.01, aspect=12 * span)
                bar.ax.tick_params(labelsize=7)
                bar.ax.grid(False)
        fig.suptitle(
            "Feature maps of one input after each conv block\n(the most active maps; blue = "
            "where the channel's pattern was found)",
            fontsize=11,
        )
    return fig


# ---------------------------------------------------------------------------------- hierarchy
def _stage(index: int, count: int) -> str:
    """What a conv layer at this depth typically detects, for the column heading: edges first,
    then strokes, and parts of the objects in the last of three or more layers."""
    if index == 0:
        return "edges"
    return "parts" if index == count - 1 and count >= 3 else "strokes"


def _crop(patterns: np.ndarray) -> tuple[np.ndarray, str]:
    """The patterns (k, C, H, W) cut to the square around what the ascent changed (a unit's
    receptive field: a few pixels for the first layer), so a small pattern is not lost in a
    big frame; and a note saying which part is shown ("" when nothing is cut)."""
    height, width = patterns.shape[-2:]
    background = np.median(patterns, axis=(-2, -1), keepdims=True)
    change = np.abs(patterns - background).max(axis=(0, 1))
    rows, cols = np.nonzero(change > 0.15 * (change.max() or 1.0))
    if rows.size == 0:
        return patterns, ""
    size = max(rows.max() - rows.min(), cols.max() - cols.min()) + 3  # a pixel of margin
    size = max(size, 5)
    if size >= 0.75 * min(height, width):
        return patterns, ""
    top = int(np.clip((rows.min() + rows.max()) // 2 - size // 2, 0, height - size))
    left = int(np.clip((cols.min() + cols.max()) // 2 - size // 2, 0, width - size))
    cut = patterns[..., top : top + size, left : left + size]
    return cut, f"shown: the central {size}x{size} of the {height}x{width} image"


def _mini_grid(
    subfig: Any, images: list[Any], titles: list[str], kwargs: Any, wide: float = 1.0
) -> None:
    """Small images in a near-square grid: 2-D arrays drawn with ``kwargs`` for imshow,
    (C, H, W) input images (``kwargs`` None) with :func:`show_image`."""
    rows, cols = _grid(len(images), wide)
    axes = subfig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k >= len(images):
            ax.set_axis_off()
            continue
        if kwargs is None:
            show_image(ax, images[k])
        else:
            ax.imshow(images[k], interpolation="nearest", **kwargs)
            bare(ax)
        ax.set_title(titles[k], fontsize=7.5, fontweight="normal", pad=1.5)


def _note(subfig: Any, text: str) -> None:
    ax = subfig.subplots()
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        fontsize=8.5,
        color=GREY,
        wrap=True,
        transform=ax.transAxes,
        style="italic",
    )


def plot_hierarchy(
    model: Any,
    x: Any,
    units: int = 4,
    *,
    class_names: Sequence[str] | None = None,
    object_name: str = "digits",
    steps: int = 150,
    rng: Any = 0,
) -> Any:
    """The feature hierarchy in one picture: a column per conv layer and one for the output.

    For each conv layer, ``units`` of its channels (the most active on ``x``): their filters
    (the first layer only: deeper filters mix many maps and are not images), their feature
    maps for the input, and the input pattern that excites each most (activation
    maximization). The output column shows the class probabilities for the input and the
    pattern that most excites each class. Read from left to right: edges -> strokes ->
    whole {object_name}, each layer built from the one before.

    Args:
        model: a trained convnet. x: the input to show ((C, H, W), or a flat row when the model
            starts with an Unflatten); or a batch whose first input is shown and whose range
            bounds the activation-maximization images.
        units: channels per conv layer. class_names: names of the output classes.
        object_name: what the classes are, for the last column's heading.
        steps, rng: passed to :func:`~sinapsi.viz.attribution.activation_maximization`.

    Returns:
        The matplotlib Figure.
    """
    from .attribution import activation_maximization

    where = "plot_hierarchy"
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise ValueError(f"{where}: units must be a positive integer; got {units!r}.")
    lay, batch = _one_input(model, x, where)
    records = run_recorded(model, batch[:1])
    found = blocks(records)
    scores = np.asarray(records[-1][2][0], dtype=np.float64)
    if np.all(scores >= 0) and abs(scores.sum() - 1) < 1e-4:
        probs = scores
    else:
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
    n_classes = len(probs)
    names = [str(c) for c in class_names] if class_names is not None else None
    if names is not None and len(names) != n_classes:
        raise ValueError(
            f"{where}: class_names has {len(names)} names but the model has {n_classes} "
            "outputs; pass one name per class."
        )
    names = names or [str(k) for k in range(n_classes)]
    shown_classes = list(range(min(n_classes, 10)))
    gen = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    image = lay.images(batch[:1])[0]
    lo, hi = float(batch.min()), float(batch.max())
    value_range = (lo, hi) if hi > lo else None
    picked = [_strongest(b.maps[:1], units) for b in found]
    ascent = {"x": batch, "value_range": value_range, "steps": steps, "rng": gen}
    patterns = [
        activation_maximization(model, b.index, list(p), **ascent) for b, p in zip(found, picked)
    ]
    class_patterns = activation_maximization(model, "output", shown_classes, **ascent)
    widths = [1.25] + [1.2] * len(found) + [2.2]
    with style() as plt:
        fig = plt.figure(figsize=(2.3 * sum(widths), 8.6), layout="constrained")
        columns = fig.subfigures(1, len(widths), width_ratios=widths, wspace=0.02)
        # ---- the input column: the image, and what each row means
        rows = columns[0].subfigures(3, 1, height_ratios=[1, 1, 1])
        _note(rows[0], "filters:\nthe weights a unit\nslides over the image")
        ax = rows[1].subplots()
        show_image(ax, image)
        predicted = int(probs.argmax())
        ax.set_title(f"this input\n(predicted {names[predicted]})", fontsize=9)
        ax.set_xlabel(
            "its feature maps →\nwhere each unit\nfound its pattern",
            fontsize=8.5,
            color=GREY,
            style="italic",
        )
        _note(rows[2], "the input that excites\nthe unit most\n(gradient ascent)")
        columns[0].suptitle("input", fontsize=11, fontweight="bold")
        # ---- a column per conv block
        for b, chosen, pats in zip(found, picked, patterns):
            rows = columns[1 + b.index].subfigures(3, 1)
            titles = [f"ch {c}" for c in chosen]
            if b.index == 0:
                kernels, _ = _kernels(b.conv)
                limit = float(np.abs(kernels).max()) or 1.0
                kernel_style = {"cmap": diverging_cmap(), "vmin": -limit, "vmax": limit}
                _mini_grid(rows[0], [kernels[c] for c in chosen], titles, kernel_style)
            else:
                shape = tuple(b.conv.weight.shape)
                _note(
                    rows[0],
                    f"weights {shape}:\neach unit combines the\n{shape[1]} maps of "
                    "the layer before,\nso its filter is not an image",
                )
            maps = b.maps[0, chosen]
            _mini_grid(rows[1], list(maps), titles, _map_style(maps))
            pats, patch = _crop(pats)
            _mini_grid(rows[2], list(pats), titles, None)
            if patch:
                rows[2].supxlabel(patch, fontsize=8, color=GREY, style="italic")
            columns[1 + b.index].suptitle(
                f"layer {b.index + 1}: {_stage(b.index, len(found))}\n({b.conv_name}, "
                f"{b.conv.out_channels} channels)",
                fontsize=11,
                fontweight="bold",
            )
        # ---- the output column
        rows = columns[-1].subfigures(3, 1)
        _note(rows[0], "Linear layers weigh all the\nlast maps into one score per class")
        ax = rows[1].subplots()
        colors = [POSITIVE if k == predicted else "#bbbbbb" for k in range(n_classes)]
        ax.bar(range(n_classes), probs, color=colors)
        ax.set_xticks(range(n_classes), names, fontsize=8, rotation=90 if n_classes > 12 else 0)
        ax.set_ylim(0, 1)
        ax.set_ylabel("probability", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_title("class probabilities for this input", fontsize=9, fontweight="normal")
        class_titles = [names[k] for k in shown_classes]
        _mini_grid(rows[2], list(class_patterns), class_titles, None, wide=2.0)
        columns[-1].suptitle(
            f"output: whole {object_name}\n({n_classes} classes)", fontsize=11, fontweight="bold"
        )
        stages = list(dict.fromkeys(_stage(b.index, len(found)) for b in found))
        fig.suptitle(
            f"The feature hierarchy: {' → '.join([*stages, object_name])}. Rows: filters, "
            "feature maps of this input, the pattern each unit looks for",
            fontsize=12.5,
        )
    return fig
