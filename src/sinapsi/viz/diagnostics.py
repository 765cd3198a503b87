"""After training: where the classifier errs, and what the first layer has learned.

- :func:`plot_confusion_matrix`: counts (or fractions) of true class vs predicted class.
- :func:`plot_weights_image`: each hidden unit's incoming weights drawn as an image, for
  models whose inputs are images (8x8 digits, 28x28 MNIST): the patterns units respond to.

>>> import numpy as np
>>> from sinapsi.viz.diagnostics import plot_confusion_matrix
>>> fig = plot_confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 1], class_names=["a", "b", "c"])
>>> fig.axes[0].get_title()
'Confusion matrix: accuracy 66.7% (4 of 6)'
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._colors import diverging_cmap
from ._mpl import linear_layers
from .curves import DARK, style

__all__ = ["plot_confusion_matrix", "plot_weights_image"]


# ----------------------------------------------------------------------------- confusion matrix
def _labels(name: str, values: Any) -> np.ndarray:
    from .. import backend
    from ..tensor import Tensor

    arr = backend.to_numpy(values.data if isinstance(values, Tensor) else values)
    arr = np.asarray(arr)
    if arr.ndim == 2 and arr.shape[1] > 1:  # scores or one-hot rows: the class is the argmax
        arr = arr.argmax(axis=1)
    elif arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"plot_confusion_matrix: {name} must be one label per sample, shape (n,), or class "
            f"scores of shape (n, n_classes); got shape {arr.shape}."
        )
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(
                f"plot_confusion_matrix: {name} holds {bad.size} NaN or inf label"
                f"{'s' * (bad.size > 1)}, first at position {bad[0]}; a label must name a "
                "class. Drop those samples (or check the model's outputs for NaN)."
            )
        if arr.size and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)  # 0., 1., 2. from a float array are class labels
    return arr


def _classes(y_true: np.ndarray, y_pred: np.ndarray, class_names: Any) -> tuple[list, list[str]]:
    """The classes in matrix order, and their display names."""
    seen = np.unique(np.concatenate([y_true, y_pred]))
    if class_names is None:
        return list(seen), [str(c) for c in seen]
    names = [str(n) for n in class_names]
    if seen.dtype.kind in "iu":
        if seen.min() >= 0 and seen.max() < len(names):
            return list(range(len(names))), names  # label k is class_names[k]
        if len(seen) == len(names):  # e.g. -1/+1: the names follow the sorted labels
            return list(seen), names
        shown = ", ".join(str(v) for v in seen[:10]) + (", ..." if len(seen) > 10 else "")
        raise ValueError(
            f"plot_confusion_matrix: class_names has {len(names)} names but the labels go "
            f"from {seen.min()} to {seen.max()} ([{shown}]); pass one name per class: "
            f"{int(seen.max()) + 1} names for labels 0..{seen.max()}, or one per distinct "
            f"label ({len(seen)}) in sorted order."
        )
    missing = [str(c) for c in seen if str(c) not in names]
    if missing:
        raise ValueError(
            f"plot_confusion_matrix: labels {missing} are not in class_names {names}; list "
            "every class that occurs in y_true or y_pred."
        )
    return names, names


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
) -> Any:
    """A heat map of true class (rows) vs predicted class (columns).

    The diagonal holds the correct predictions; an off-diagonal cell (i, j) counts samples of
    class i taken for class j. Each cell shows its count, or with ``normalize=True`` the
    fraction of its row (what share of true class i went to j; rows sum to 1).

    Args:
        y_true: true labels, shape (n,).
        y_pred: predicted labels, shape (n,), e.g. from :func:`sinapsi.predict_classes`; class
            scores of shape (n, n_classes) are turned into labels by argmax.
        class_names: display names; with integer labels, ``class_names[k]`` names label k
            (and every class gets a row, even one that never occurs); labels outside
            0..len-1 (such as -1/+1) are named in sorted order, as scikit-learn's
            ``classes_``.
        normalize: show row fractions instead of counts.

    Returns:
        The matplotlib Figure; the title gives the accuracy.

    Raises:
        ValueError: ``y_true`` and ``y_pred`` differ in length, or are empty.
    """
    y_true, y_pred = _labels("y_true", y_true), _labels("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"plot_confusion_matrix: y_true has {len(y_true)} labels but y_pred has "
            f"{len(y_pred)}; pass one prediction per sample (the same samples, in order)."
        )
    if len(y_true) == 0:
        raise ValueError(
            "plot_confusion_matrix: y_true and y_pred are empty: there is nothing to plot. Pass "
            "the labels and predictions of at least one sample."
        )
    classes, names = _classes(y_true, y_pred, class_names)
    index = {c: i for i, c in enumerate(classes)}
    to_index = np.vectorize(lambda c: index[c.item() if hasattr(c, "item") else c], otypes=[int])
    rows = to_index(y_true.astype(str) if isinstance(classes[0], str) else y_true)
    cols = to_index(y_pred.astype(str) if isinstance(classes[0], str) else y_pred)
    k = len(classes)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (rows, cols), 1)
    correct, total = int(np.trace(counts)), int(counts.sum())
    row_sums = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, row_sums, out=np.zeros((k, k)), where=row_sums > 0)
    shown = fractions if normalize else counts

    with style() as plt:
        side = min(max(4.2, 0.55 * k + 2.4), 14.0)
        fig, ax = plt.subplots(figsize=(side + 1.0, side), layout="constrained")
        vmax = 1.0 if normalize else max(int(counts.max()), 1)
        image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=vmax, interpolation="nearest")
        ax.grid(False)
        bar = fig.colorbar(image, ax=ax, shrink=0.85, pad=0.02)
        bar.set_label("fraction of the true class" if normalize else "number of samples")
        bar.ax.grid(False)
        if not normalize:
            from matplotlib.ticker import MaxNLocator

            bar.locator = MaxNLocator(integer=True)
            bar.update_ticks()
        if k <= 30:
            size = 11 if k <= 6 else 9.5 if k <= 12 else 8 if k <= 20 else 6.5
            for i in range(k):
                for j in range(k):
                    value = shown[i, j]
                    text = f"{value:.2f}" if normalize else str(int(value))
                    if counts[i, j] == 0:  # empty cells recede, so the errors stand out
                        text, color = "0", "#9a9a9a"
                    else:
                        color = "white" if value > 0.55 * vmax else DARK
                    ax.text(
                        j,
                        i,
                        text,
                        ha="center",
                        va="center",
                        fontsize=size,
                        color=color,
                        fontweight="bold" if i == j else "normal",
                    )
        rotate = max(len(n) for n in names) > 3
        ax.set_xticks(
            range(k),
            names,
            rotation=45 if rotate else 0,
            ha="right" if rotate else "center",
            rotation_mode="anchor",
        )
        ax.set_yticks(range(k), names)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        title = f"Confusion matrix: accuracy {correct / total:.1%} ({correct} of {total})"
        ax.set_title(title + ("\nrows normalized: each row sums to 1" if normalize else ""))
    return fig


# ------------------------------------------------------------------------------ weight images
def _check_image_shape(image_shape: Any) -> tuple[int, int]:
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if (
        shape is None
        or len(shape) != 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            "plot_weights_image: image_shape must be (height, width) of one input image, two "
            f"positive integers, e.g. (8, 8) for digits or (28, 28) for MNIST. Received: "
            f"image_shape={image_shape!r}"
        )
    return int(shape[0]), int(shape[1])


def plot_weights_image(
    model: Any, image_shape: tuple[int, int], max_units: int = 64, *, scale: str = "global"
) -> Any:
    """The first Linear layer's weights, one small image per hidden unit.

    Unit k's incoming weights (row k of ``weight``, one weight per input pixel) are reshaped
    to ``image_shape`` and drawn with a diverging colour map centred at 0, in the colours of
    every sinapsi picture (TensorFlow Playground's): blue pixels push the unit up (positive
    weight), orange pixels push it down, white ones are ignored. After training
    on images, the units look like strokes and blobs: the patterns they detect.

    Args:
        model: a model whose first Linear layer takes the flattened image.
        image_shape: ``(height, width)`` of one input image, with height x width equal to the
            layer's ``in_features``.
        max_units: draw at most this many units (the first ones).
        scale: ``"global"`` (default): one symmetric colour scale ±max|w| for all units, so
            their strengths compare, with a colour bar; ``"unit"``: each unit scaled to its own
            ±max|w|, which shows the pattern of weak units too. The title says which.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: ``in_features`` is not height x width (the message gives both); the model
            has no Linear layer.
    """
    height, width = _check_image_shape(image_shape)
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise ValueError(
            f"plot_weights_image: max_units must be a positive integer. Received: {max_units!r}"
        )
    if scale not in ("global", "unit"):
        raise ValueError(
            f"plot_weights_image: scale must be 'global' or 'unit'. Received: scale={scale!r}"
        )
    from .. import backend

    layer = linear_layers(model)[0]
    layer_name = next(
        (f"{n or 'model'} Linear" for n, m in model.named_modules() if m is layer), "Linear"
    )
    weights = backend.to_numpy(layer.weight.data).astype(np.float64)
    n_out, n_in = weights.shape
    if n_in != height * width:
        side = math.isqrt(n_in)
        hint = f" such as ({side}, {side})" if side * side == n_in else ""
        raise ValueError(
            f"plot_weights_image: the first Linear layer ({layer_name}) takes {n_in} inputs, but "
            f"image_shape=({height}, {width}) has {height * width} pixels. Pass the shape of one "
            f"input image, with height x width = {n_in}{hint}."
        )
    n = min(n_out, max_units)
    cols = math.ceil(math.sqrt(n * height / width))
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    limit = float(np.abs(weights[:n]).max()) or 1.0

    cmap = diverging_cmap()
    with style() as plt:
        panel = 1.15 if n <= 36 else 0.95
        aspect = width / height
        fig_w = min(cols * panel * aspect + (1.3 if scale == "global" else 0.4), 16.0)
        fig_h = min(rows * panel + 1.0, 16.0)
        fig, axes = plt.subplots(
            rows, cols, figsize=(max(fig_w, 6.0), fig_h + 0.3), layout="constrained", squeeze=False
        )
        image = None
        for k, ax in enumerate(axes.ravel()):
            if k >= n:
                ax.set_axis_off()
                continue
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
            for spine in ax.spines.values():  # a thin frame: near-white units stay visible
                spine.set(visible=True, color="#b0b0b0", linewidth=0.6)
            unit = weights[k].reshape(height, width)
            lim = limit if scale == "global" else float(np.abs(unit).max()) or 1.0
            image = ax.imshow(unit, cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest")
            ax.set_title(f"unit {k}", fontsize=7 if n > 36 else 8, pad=2, fontweight="normal")
            ax.set_gid(f"unit:{k}")
        shown = f"{n} units" if n == n_out else f"the first {n} of {n_out} units"
        how = (
            f"one colour scale for all units: ±{limit:.2g}"
            if scale == "global"
            else "each unit on its own colour scale ±max|w|"
        )
        fig.suptitle(
            f"First-layer weights ({layer_name}, {shown})\nas {height}x{width} images: blue > 0, "
            f"orange < 0, white = 0\n{how}",
            fontsize=11,
        )
        if scale == "global" and image is not None:
            bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, pad=0.02, aspect=30)
            bar.set_label("weight")
    return fig
