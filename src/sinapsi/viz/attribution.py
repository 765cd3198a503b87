"""What a unit looks for, and what a prediction looked at: activation maximization and saliency.

- :func:`activation_maximization`: start from a faint noisy image and climb the gradient of one
  unit's activation *with respect to the input* (gradient ascent through sinapsi's own
  autograd), with a regularizer (L2 decay, jitter, blur, clipping to the data range) so the
  image stays readable. The result is the pattern the unit responds to most: an edge for a
  first-layer filter, a stroke or a corner for a deeper one, a whole digit for an output class.
- :func:`saliency`: ``|d score / d input|`` for the predicted class: the pixels whose change
  would move the prediction most.

Both work on any convnet (see :mod:`sinapsi.viz.convnet` for the image shapes it finds); a
layer is named by the index of its Conv2d (0 = the first), ``"output"`` (the last Linear layer,
the class scores before any softmax) or the layer module itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .convnet import Layout, bare, conv_layers, layout, pick_conv, show_image
from .curves import style

__all__ = [
    "activation_maximization",
    "unit_activation",
    "plot_activation_maximization",
    "saliency",
    "plot_saliency",
]


class _Stop(Exception):
    """Raised by a forward hook to stop the forward pass at the layer that was asked for."""

    def __init__(self, output: Any) -> None:
        super().__init__()
        self.output = output


def _target(model: Any, layer: Any, where: str) -> tuple[str, Any]:
    """``layer`` as (label, the module whose output is scored)."""
    from ..nn.layers import Linear
    from ..nn.module import Module

    if isinstance(layer, str) and layer == "output":
        linears = [(n, m) for n, m in model.named_modules() if isinstance(m, Linear)]
        if linears:
            return f"output ({linears[-1][0]} Linear)", linears[-1][1]
        return "output", model
    if isinstance(layer, Module) and not isinstance(layer, _conv_type()):
        for name, module in model.named_modules():
            if module is layer:
                return f"{name or 'model'} {type(module).__name__}", module
        raise ValueError(f"{where}: layer {layer!r} is not a layer of this model.")
    if layer is None or isinstance(layer, (int, np.integer, Module)):
        index, name, conv = pick_conv(model, layer, where)
        return f"conv {index + 1} ({name})", conv
    raise ValueError(
        f"{where}: layer must be the index of a Conv2d (0 = the first), 'output' (the class "
        f"scores) or a layer of the model; got {layer!r}."
    )


def _conv_type() -> type:
    from ..nn.conv import Conv2d

    return Conv2d


def _forward_to(model: Any, module: Any, x: Any) -> Any:
    """The output of ``module`` when ``x`` runs through the model (stopping right there)."""
    if module is model:
        return model(x)

    def stop(mod: Any, inputs: tuple, output: Any) -> None:
        raise _Stop(output)

    remove = module.register_forward_hook(stop)
    try:
        model(x)
    except _Stop as caught:
        return caught.output
    finally:
        remove()
    raise ValueError("the chosen layer did not run in the model's forward pass")


def _scores(out: Any, units: np.ndarray, position: Any) -> tuple[Any, np.ndarray]:
    """(sum of the scores as a Tensor to climb, each image's score) for image i scoring unit
    ``units[i]``: a channel's mean (``position="mean"``) or its centre value (``"center"``)."""
    from ..tensor import Tensor

    n, channels = out.shape[0], out.shape[1]
    onehot = np.zeros((n, channels), dtype=out.data.dtype)
    onehot[np.arange(n), units] = 1
    if out.ndim == 4 and position == "center":
        out = out[:, :, out.shape[2] // 2, out.shape[3] // 2]
    if out.ndim == 4:
        size = out.shape[2] * out.shape[3]
        picked = out * Tensor(onehot[:, :, None, None] / size)
        each = picked.data.reshape(n, -1).sum(axis=1)
    else:
        picked = out * Tensor(onehot)
        each = picked.data.reshape(n, -1).sum(axis=1)
    return picked.sum(), np.asarray(each, dtype=np.float64)


def _units(unit: Any, where: str) -> tuple[np.ndarray, bool]:
    if isinstance(unit, (int, np.integer)) and not isinstance(unit, bool):
        return np.array([int(unit)]), True
    units = np.asarray(unit)
    if units.ndim != 1 or units.size == 0 or units.dtype.kind not in "iu":
        raise ValueError(
            f"{where}: unit must be a channel (or class) index, or a list of them; got {unit!r}."
        )
    return units.astype(np.int64), False


def _value_range(x: Any, value_range: Any, lay: Layout, where: str) -> tuple[float, float, Any]:
    """(low, high, data batch or None) of the inputs."""
    batch = None if x is None else lay.batch(x, where)
    if value_range is not None:
        lo, hi = (float(v) for v in value_range)
    elif batch is not None:
        lo, hi = float(batch.min()), float(batch.max())
    else:
        lo, hi = 0.0, 1.0
    if not hi > lo:
        raise ValueError(
            f"{where}: the input range must have high > low (the pixel values the images may "
            f"take); got ({lo}, {hi}). Pass value_range=(low, high) or a varied x."
        )
    return lo, hi, batch


def _blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """A small separable Gaussian blur over the last two axes (edges repeated)."""
    if sigma <= 0:
        return images
    radius = max(1, int(round(2 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    for axis in (-2, -1):
        width = [(0, 0)] * images.ndim
        width[axis] = (radius, radius)
        padded = np.pad(images, width, mode="edge")
        size = images.shape[axis]
        images = sum(
            w * np.take(padded, np.arange(i, i + size), axis=axis) for i, w in enumerate(taps)
        )
    return images


def activation_maximization(
    model: Any,
    layer: Any,
    unit: int | Sequence[int],
    *,
    x: Any = None,
    input_shape: Any = None,
    value_range: tuple[float, float] | None = None,
    position: str = "center",
    steps: int = 150,
    lr: float = 0.1,
    l2: float = 0.002,
    jitter: int | None = None,
    blur: float = 0.5,
    blur_every: int = 8,
    rng: Any = None,
) -> np.ndarray:
    """The input image that most excites ``unit`` of ``layer``, by gradient ascent on the input.

    Starts from the data's mean plus faint noise and repeats ``steps`` times: run the image
    through the model up to ``layer`` (sinapsi's autograd, the model's weights frozen and left
    untouched), take the gradient of the unit's activation with respect to the *input*, and
    step up it. Left alone, gradient ascent makes high-frequency noise that excites the unit
    but means nothing to a person; the regularizer keeps the image natural: each step moves
    each pixel by at most ``lr`` x the data range (the gradient scaled by its largest value),
    decays the image toward 0 (L2, ``l2``), looks at it shifted by up to ``jitter`` pixels,
    blurs it every ``blur_every`` steps and clips it to the data range.

    Args:
        model: a convnet (eval mode is used; its weights are not changed).
        layer: the index of a Conv2d (0 = the first; its output before the activation is
            scored), ``"output"`` (the class scores of the last Linear layer) or a layer of
            the model.
        unit: the channel (or class) to excite, or a list of them: their images are found
            together, one per unit.
        x: some inputs: the image shape (for a model without an Unflatten layer), the start
            (their mean) and the value range come from them.
        input_shape: (C, H, W) when there is no x and no Unflatten layer.
        value_range: (low, high) for the pixels; default the range of ``x``, else (0, 1).
        position: ``"center"`` (default) scores a channel by its value at the centre of its
            feature map: one receptive field, so the image is a localized pattern (an edge,
            a stroke); ``"mean"`` by the mean of the whole map. (A first conv layer's mean
            map is linear in the input, so its maximum is a saturated, unreadable image.)
            A Linear layer's unit is one number: position does not apply.
        steps, lr, l2, jitter, blur, blur_every: the ascent and its regularizer; ``jitter``
            None is 0 for the first Conv2d (its receptive field is a single kernel, which a
            shift would smear) and 1 pixel otherwise.
        rng: seed or Generator for the start noise and the jitter.

    Returns:
        The image (C, H, W) for one unit, (k, C, H, W) for a list of k units (in the
        model's input units; reshape nothing: it is always image-shaped).
    """
    from .. import backend
    from ..nn.module import module_dtype, training_mode
    from ..tensor import Tensor

    where = "activation_maximization"
    label, module = _target(model, layer, where)
    units, single = _units(unit, where)
    if jitter is None:  # the first conv's receptive field is one kernel: a shift smears it
        jitter = 0 if module is conv_layers(model, where)[0][1] else 1
    for name, value, low in (
        ("steps", steps, 1),
        ("blur_every", blur_every, 1),
        ("jitter", jitter, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{where}: {name} must be an integer >= {low}; got {value!r}.")
    if position not in ("mean", "center"):
        raise ValueError(f"{where}: position must be 'mean' or 'center'; got {position!r}.")
    lay = layout(model, x, input_shape, where)
    lo, hi, batch = _value_range(x, value_range, lay, where)
    gen = backend.new_rng(rng)
    span = hi - lo
    start = float(lay.images(batch).mean()) if batch is not None else lo + 0.1 * span
    images = start + 0.02 * span * gen.standard_normal((len(units), *lay.image))
    dtype = module_dtype(model)
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad = False
        with training_mode(False):
            probe = _forward_to(model, module, Tensor(images.reshape(-1, *lay.sample), dtype=dtype))
            bad = units[(units < 0) | (units >= probe.shape[1])]
            if bad.size:
                raise ValueError(
                    f"{where}: unit {int(bad[0])} is out of range: {label} has "
                    f"{probe.shape[1]} units (0 to {probe.shape[1] - 1})."
                )
            for step in range(steps):
                dy, dx = (int(v) for v in gen.integers(-jitter, jitter + 1, size=2))
                shifted = np.roll(images, (dy, dx), axis=(-2, -1))
                t = Tensor(shifted.reshape(-1, *lay.sample), dtype=dtype, requires_grad=True)
                total, _ = _scores(_forward_to(model, module, t), units, position)
                total.backward()
                grad = np.roll(
                    backend.to_numpy(t.grad).reshape(images.shape).astype(np.float64),
                    (-dy, -dx),
                    axis=(-2, -1),
                )
                scale = np.abs(grad).reshape(len(units), -1).max(axis=1)
                images += lr * span * grad / np.maximum(scale, 1e-12)[:, None, None, None]
                images -= l2 * images
                if blur > 0 and (step + 1) % blur_every == 0:
                    images = _blur(images, blur)
                np.clip(images, lo, hi, out=images)
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad = flag
    images = images.astype(dtype)
    return images[0] if single else images


def unit_activation(
    model: Any, layer: Any, unit: int | Sequence[int], images: Any, *, position: str = "center"
) -> np.ndarray:
    """How strongly ``images`` (k, C, H, W) excite ``unit`` (one index, or one per image) of
    ``layer``, scored as :func:`activation_maximization` does: one number per image."""
    from ..autograd import no_grad
    from ..nn.module import module_dtype, training_mode
    from ..tensor import Tensor

    where = "unit_activation"
    _, module = _target(model, layer, where)
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[None]
    lay = layout(model, arr, None, where)
    units, _ = _units(unit, where)
    units = np.broadcast_to(units, (len(arr),)) if units.size == 1 else units
    with no_grad(), training_mode(False):
        out = _forward_to(
            model, module, Tensor(arr.reshape(-1, *lay.sample), dtype=module_dtype(model))
        )
        return _scores(out, units, position)[1]


def saliency(model: Any, x: Any, target: Any = None) -> np.ndarray:
    """``|d score / d input|``, the largest over the colour channels: the pixels that move the
    class score most. ``score`` is the target class's output of the last Linear layer (before
    any softmax); ``target`` None is the predicted class, an int one class for every input,
    a list one class per input.

    Returns:
        (H, W) for one input (C, H, W) (or a flat row with an Unflatten in front), (n, H, W)
        for a batch; non-negative.
    """
    from .. import backend
    from ..nn.module import module_dtype, training_mode
    from ..tensor import Tensor

    where = "saliency"
    label, module = _target(model, "output", where)
    lay = layout(model, x, None, where)
    arr = np.asarray(backend.to_numpy(x.data if isinstance(x, Tensor) else x))
    single = arr.shape == lay.sample
    batch = lay.batch(arr, where)
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad = False
        with training_mode(False):
            t = Tensor(batch, dtype=module_dtype(model), requires_grad=True)
            out = _forward_to(model, module, t)
            if out.ndim != 2:
                raise ValueError(f"{where}: {label} gives shape {out.shape}, not class scores.")
            if target is None:
                targets = out.data.argmax(axis=1)
            else:
                targets, _ = _units(target, where)
                if targets.size == 1:
                    targets = np.repeat(targets, len(batch))
            if targets.max() >= out.shape[1] or targets.min() < 0 or len(targets) != len(batch):
                raise ValueError(
                    f"{where}: target must be a class 0 to {out.shape[1] - 1} (one, or one per "
                    f"input: {len(batch)}); got {target!r}."
                )
            total, _ = _scores(out, targets, "mean")
            total.backward()
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad = flag
    grad = lay.images(np.abs(backend.to_numpy(t.grad).astype(np.float64)))
    maps = grad.max(axis=1)
    return maps[0] if single else maps


# ----------------------------------------------------------------------------------- pictures
def plot_activation_maximization(
    model: Any,
    layer: Any = 0,
    units: Sequence[int] | None = None,
    *,
    x: Any = None,
    max_units: int = 16,
    class_names: Sequence[str] | None = None,
    **kwargs: Any,
) -> Any:
    """A grid of the patterns that most excite each unit of ``layer`` (see
    :func:`activation_maximization`; ``kwargs`` go to it), each on its own grey scale, ink
    dark. ``units`` None: the first ``max_units`` channels (or classes)."""
    where = "plot_activation_maximization"
    label, _ = _target(model, layer, where)
    if units is None:
        count = _count_units(model, layer, x, kwargs.get("input_shape"))
        units = list(range(min(count, max_units)))
    images = activation_maximization(model, layer, list(units), x=x, **kwargs)
    output = isinstance(layer, str) and layer == "output"
    names = [
        (str(class_names[u]) if class_names is not None else f"class {u}")
        if output
        else f"unit {u}"
        for u in units
    ]
    n = len(units)
    cols = min(n, 8 if n > 10 else 5)
    rows = -(-n // cols)
    with style() as plt:
        fig, axes = plt.subplots(
            rows,
            cols,
            figsize=(1.45 * cols + 0.4, 1.5 * rows + 1.0),
            squeeze=False,
            layout="constrained",
        )
        for k, ax in enumerate(axes.ravel()):
            if k >= n:
                ax.set_axis_off()
                continue
            show_image(ax, images[k])
            ax.set_title(names[k], fontsize=9, fontweight="normal", pad=2)
        fig.suptitle(
            f"What excites each unit of {label}: inputs found by gradient ascent\n"
            "(activation maximization; each image on its own scale, dark = high)",
            fontsize=11,
        )
    return fig


def _count_units(model: Any, layer: Any, x: Any, input_shape: Any) -> int:
    from ..nn.conv import Conv2d
    from ..nn.layers import Linear

    _, module = _target(model, layer, "plot_activation_maximization")
    if isinstance(module, Conv2d):
        return int(module.out_channels)
    if isinstance(module, Linear):
        return int(module.out_features)
    lay = layout(model, x, input_shape, "plot_activation_maximization")
    return _channels(model, module, lay)


def _channels(model: Any, module: Any, lay: Layout) -> int:
    from ..autograd import no_grad
    from ..nn.module import module_dtype, training_mode
    from ..tensor import Tensor

    with no_grad(), training_mode(False):
        out = _forward_to(
            model, module, Tensor(np.zeros((1, *lay.sample)), dtype=module_dtype(model))
        )
    return int(out.shape[1])


def plot_saliency(
    model: Any, x: Any, target: int | None = None, *, class_names: Sequence[str] | None = None
) -> Any:
    """One input, its saliency map (:func:`saliency`) and the two overlaid: which pixels the
    prediction depends on."""
    from .. import backend
    from ..autograd import no_grad
    from ..nn.module import module_dtype, training_mode
    from ..tensor import Tensor

    where = "plot_saliency"
    conv_layers(model, where)
    lay = layout(model, x, None, where)
    batch = lay.batch(x, where)
    if len(batch) != 1:
        raise ValueError(f"{where}: x must be one input; got a batch of {len(batch)}.")
    with no_grad(), training_mode(False):
        scores = backend.to_numpy(model(Tensor(batch, dtype=module_dtype(model))).data)[0]
    scores = np.asarray(scores, dtype=np.float64)
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    if np.all(scores >= 0) and abs(scores.sum() - 1) < 1e-4:  # the model ends with a softmax
        probs = scores
    if class_names is not None and len(class_names) != len(scores):
        raise ValueError(
            f"{where}: class_names has {len(class_names)} names but the model has "
            f"{len(scores)} outputs; pass one name per class."
        )
    predicted = int(scores.argmax())
    chosen = predicted if target is None else int(target)
    sal = saliency(model, batch[0], target=chosen)
    image = lay.images(batch)[0]

    def name(k: int) -> str:
        return str(class_names[k]) if class_names is not None else str(k)

    with style() as plt:
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.7), layout="constrained")
        show_image(axes[0], image)
        axes[0].set_title(f"input\npredicted {name(predicted)} ({probs[predicted]:.0%})")
        shown = axes[1].imshow(sal, cmap="Reds", vmin=0, interpolation="nearest")
        bare(axes[1])
        axes[1].set_title(f"saliency\n|d score({name(chosen)}) / d pixel|")
        bar = fig.colorbar(shown, ax=axes[1], shrink=0.8)
        bar.ax.grid(False)
        show_image(axes[2], image, alpha=0.55)
        peak = float(sal.max()) or 1.0
        axes[2].imshow(
            sal / peak,
            cmap="Reds",
            alpha=np.clip(sal / peak, 0, 1),
            interpolation="nearest",
            vmin=0,
            vmax=1,
        )
        axes[2].set_title("overlay\nred: the most sensitive pixels")
        fig.suptitle(
            f"Saliency: the pixels whose change moves the score of class {name(chosen)} most",
            fontsize=11,
        )
    return fig
