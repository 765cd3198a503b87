"""Decision boundaries: what a 2-D classifier predicts at every point of the plane.

:func:`plot_decision_boundary` colours the plane by the model's prediction (for a binary
classifier, by the probability of class 1, with the 0.5 contour drawn: the decision boundary)
and puts the data on top: training points filled, test points hollow, each coloured by its
true label. The title gives both accuracies, so over- and underfitting show at a glance.

>>> import sinapsi as sn
>>> from sinapsi import nn
>>> from sinapsi.data.datasets import xor
>>> from sinapsi.viz.boundary import plot_decision_boundary
>>> x, y = xor(200, seed=0)
>>> model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 2, rng=1))
>>> _ = sn.fit(model, x, y, lr=0.05, epochs=30, seed=0, verbose=0)
>>> fig = plot_decision_boundary(model, x, y, resolution=50)
>>> fig.savefig("boundary.png")            # doctest: +SKIP
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..nn.activations import LogSoftmax, Sigmoid, Softmax, Tanh
from ..tensor import Tensor
from ..train.trainer import predict
from ._colors import NEGATIVE, POSITIVE, diverging_cmap
from ._mpl import input_size, pyplot
from ._neuron_maps import plane_of

__all__ = ["plot_decision_boundary", "class_colors"]

_OTHER_COLORS = [
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def class_colors(n_classes: int) -> list[str]:
    """Class colours: orange for class 0 and blue for class 1 (the Playground's), then
    matplotlib's tab10 colours."""
    colors = [NEGATIVE, POSITIVE, *_OTHER_COLORS]
    if n_classes > len(colors):
        from matplotlib import colormaps
        from matplotlib.colors import to_hex

        tab20 = colormaps["tab20"]
        colors += [to_hex(tab20(i % 20)) for i in range(n_classes - len(colors))]
    return colors[:n_classes]


# ------------------------------------------------------------------------------ checks
def check_2d_model(owner: str, model: Any) -> None:
    """The model must take 2 features: the plane is all we can draw."""
    n_inputs = input_size(model)
    if n_inputs != 2:
        raise ValueError(
            f"{owner} draws 2-D inputs; this model takes {n_inputs} features. Use "
            "plot_confusion_matrix or plot_activations instead (or project to 2-D first)"
        )


def _array(value: Any) -> np.ndarray:
    return np.asarray(backend.to_numpy(value.data if isinstance(value, Tensor) else value))


def check_points(owner: str, x: Any, y: Any, names: tuple[str, str] = ("x", "y")) -> tuple:
    """``x`` as float (n, 2) and ``y`` as one label per point (n,): any values (ints, -1/+1,
    strings, integer-valued floats); a (n, 1) column is flattened, one-hot rows become their
    index."""
    x, y = _array(x), _array(y)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(
            f"{owner}: {names[0]} must have shape (n_samples, 2), one point of the plane per "
            f"row; got shape {x.shape}. Project the data to 2-D first, or pass the 2-D set the "
            "model was trained on."
        )
    x = x.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:
        raise ValueError(
            f"{owner}: {names[0]} holds {bad.size} non-finite value{'s' * (bad.size > 1)} "
            f"(NaN or inf), first in row {bad[0]}: {x[bad[0]].tolist()}. Drop or impute those "
            "rows before plotting."
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] > 1 and y.shape[0] == len(x):
        if (
            y.dtype.kind not in "iufb"
            or not np.all((y == 0) | (y == 1))
            or not np.all(y.sum(axis=1) == 1)
        ):
            raise ValueError(
                f"{owner}: {names[1]} of shape {y.shape} would be one-hot rows, but these are "
                "not 0/1 rows with a single 1. Pass one class label per point, shape "
                f"({len(x)},)."
            )
        y = y.argmax(axis=1)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"{owner}: {names[1]} must hold one class label per point of {names[0]} (shape "
            f"({len(x)},)); got shape {y.shape}."
        )
    if y.dtype.kind == "f":
        odd = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if odd.size:
            raise ValueError(
                f"{owner}: {names[1]} must hold class labels; got non-integer values such as "
                f"{y[odd[:3]].tolist()}. A decision boundary needs a classifier (any label "
                "values: 0/1, -1/+1, strings); for a regression model plot its predictions "
                "instead."
            )
        y = y.astype(np.int64)
    elif y.dtype.kind == "b":
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iuUSO":
        raise ValueError(
            f"{owner}: {names[1]} must hold class labels (integers or strings); got {y.dtype}."
        )
    return x, y


def _show(values: Any) -> str:
    return "[" + ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values) + "]"


def resolve_classes(
    owner: str, n_outputs: int, labels: list[np.ndarray], classes: Any = None
) -> np.ndarray:
    """The label of each predicted class index, in the order of the model's outputs.

    A model with 1 output has 2 classes (output <= 0 and output > 0), C outputs have C. The
    labels of y map to them as in scikit-learn, unless they already are output indices:

    - ``classes`` given: ``classes[k]`` is the label of output k (of "output > 0" for 1 output);
    - integer labels all in 0..C-1: label k is output k (what :func:`sinapsi.fit` trains);
    - otherwise ``np.unique(y)`` (sorted) must give exactly C labels: the k-th is output k, so
      with -1/+1, {1, 2} or {"no", "yes"} the larger label is class 1 (output > 0).
    """
    n_classes = max(n_outputs, 2)
    outputs = f"{n_outputs} output{'s' * (n_outputs > 1)} ({n_classes} classes)"
    seen = np.unique(np.concatenate(labels))
    if classes is not None:
        chosen = np.asarray(list(classes))
        if chosen.ndim != 1 or len(chosen) != n_classes or len(np.unique(chosen)) != n_classes:
            raise ValueError(
                f"{owner}: classes={_show(chosen.ravel())} names {chosen.size} "
                f"class{'es' * (chosen.size != 1)}, but the model has {outputs}; pass "
                f"{n_classes} distinct labels, the label of each output in order."
            )
        missing = [v for v in seen.tolist() if v not in set(chosen.tolist())]
        if missing:
            raise ValueError(
                f"{owner}: the label {missing[0]!r} of y is not in classes={_show(chosen)}; "
                "list the label of each output, covering every label in y."
            )
        return chosen
    if seen.dtype.kind in "iu" and seen.min() >= 0 and seen.max() < n_classes:
        return np.arange(n_classes)
    if len(seen) == n_classes:
        return seen
    if len(seen) > n_classes:
        raise ValueError(
            f"{owner}: y holds {len(seen)} classes {_show(seen[:10])}, but the model has "
            f"{outputs}. Plot the model these labels were trained for, or pass labels 0.."
            f"{n_classes - 1}; for a regression model plot its predictions instead."
        )
    only = ", ".join(repr(v.item()) for v in seen)
    raise ValueError(
        f"{owner}: y holds only the label{'s' * (len(seen) > 1)} {only}, which cannot tell "
        f"which of the model's {n_classes} classes {'it is' if len(seen) == 1 else 'they are'}. "
        f"Pass classes=, the label of each output in order (e.g. classes=[-1, 1] for a score "
        "whose sign is the class)."
    )


def class_indices(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each label's class index (its position in ``classes``)."""
    order = np.argsort(classes, kind="stable")
    return order[np.searchsorted(classes, labels, sorter=order)]


# ------------------------------------------------------------------------------ predictions
def _last_leaf(model: Any) -> Any:
    leaves = [m for m in model.modules() if not list(m.children())]
    return leaves[-1] if leaves else model


def class_probabilities(model: Any, points: np.ndarray) -> tuple[np.ndarray, str]:
    """(n, C) class scores, C >= 2, whose argmax is the predicted class, and what they are.

    One output: class 1 when the output is > 0 (a logit; a score, e.g. micrograd's), or > 0.5
    after a final Sigmoid (a probability); the columns are ``1 - p, p`` with p the sigmoid of
    the logit ("logit"), the probability ("probability"), or ``(1 + t) / 2`` for a final
    Tanh's t ("tanh"). C outputs: softmax of C logits, as :func:`sinapsi.predict_proba`, or
    the outputs of a final Softmax/LogSoftmax ("softmax").
    """
    out = predict(model, points, batch_size=8192).astype(np.float64)
    out = out.reshape(len(out), -1)
    last = _last_leaf(model)
    if out.shape[1] == 1:
        score = out[:, 0]
        if isinstance(last, Sigmoid):
            p, kind = score, "probability"
        elif isinstance(last, Tanh):
            p, kind = 0.5 * (1.0 + score), "tanh"
        else:
            p, kind = 0.5 * (1.0 + np.tanh(0.5 * score)), "logit"
        return np.stack([1.0 - p, p], axis=1), kind
    if isinstance(last, LogSoftmax):
        return np.exp(out), "softmax"
    if isinstance(last, Softmax):
        return out, "softmax"
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True), "softmax"


def _n_outputs(model: Any) -> int:
    out = predict(model, np.zeros((1, 2), np.float32))
    return int(np.prod(out.shape[1:]))


_BAR_LABEL = {
    "probability": "P({1}), the model's output: {1} when > 0.5",
    "logit": "P({1}) = sigmoid(output): {1} when output > 0",
    "tanh": "tanh output: {1} when > 0",
}


# ------------------------------------------------------------------------------ drawing
def draw_boundary(
    ax: Any,
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    *,
    classes: Any = None,
    class_names: Sequence[str] | None = None,
    resolution: int = 200,
    plane: tuple[float, float, float, float] | None = None,
    legend: bool = True,
    colorbar: bool = True,
    marker_size: float = 28.0,
    owner: str = "plot_decision_boundary",
) -> dict[str, Any]:
    """Draw the surface and points into ``ax``; returns the accuracies and the artists.

    ``y`` and ``y_test`` are labels as :func:`check_points` returns them; they map to the
    model's outputs by :func:`resolve_classes`."""

    labels = [y] if y_test is None else [y, y_test]
    names = resolve_classes(owner, _n_outputs(model), labels, classes)
    shown = [f"class {name}" for name in names.tolist()]
    if class_names is not None:
        shown = [str(n) for n in class_names]
        if len(shown) != len(names):
            raise ValueError(
                f"{owner}: class_names has {len(shown)} names but the model has {len(names)} "
                f"classes; pass one display name per class, in the order of the outputs "
                f"({_show(names)}). Received: class_names={shown!r}"
            )
    both = x if x_test is None else np.concatenate([x, x_test])
    plane = plane or plane_of(both)
    xs = np.linspace(plane[0], plane[1], resolution)
    ys = np.linspace(plane[2], plane[3], resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    probs, kind = class_probabilities(model, grid)
    bad = int((~np.isfinite(probs).all(axis=1)).sum())
    if bad:
        raise ValueError(
            f"{owner}: the model outputs NaN or inf at {bad} of the plane's {len(grid)} grid "
            "points: its weights are not finite, or too large (the training diverged). Lower "
            "the learning rate or clip the gradients (fit(..., clip_grad_norm=1.0))."
        )
    colors = class_colors(len(names))
    extent = (plane[0], plane[1], plane[2], plane[3])
    if probs.shape[1] == 2:
        p1 = probs[:, 1].reshape(resolution, resolution)
        surface = ax.imshow(
            p1,
            cmap=diverging_cmap(0.55),
            vmin=0.0,
            vmax=1.0,
            origin="lower",
            extent=extent,
            aspect="auto",
            interpolation="nearest",
            zorder=0,
        )
        ax.contour(xs, ys, p1, levels=[0.5], colors="#222222", linewidths=1.3, zorder=1)
        if colorbar:
            bar = ax.figure.colorbar(surface, ax=ax, fraction=0.046, pad=0.03)
            label = _BAR_LABEL.get(kind, "P({1})").format(*shown)
            bar.set_label(label, fontsize=8)
            if kind == "tanh":
                bar.set_ticks([0.0, 0.25, 0.5, 0.75, 1.0], labels=["-1", "-0.5", "0", "0.5", "1"])
            bar.ax.tick_params(labelsize=8)
    else:
        from matplotlib.colors import to_rgb

        top = probs.argmax(axis=1)
        c = probs.shape[1]
        confidence = (probs.max(axis=1) - 1.0 / c) / (1.0 - 1.0 / c)  # 0 on a tie, 1 when sure
        base = np.array([to_rgb(col) for col in colors])[top]
        strength = (0.2 + 0.35 * confidence)[:, None]
        rgb = (1.0 - strength) + strength * base
        surface = ax.imshow(
            rgb.reshape(resolution, resolution, 3),
            origin="lower",
            extent=extent,
            aspect="auto",
            interpolation="nearest",
            zorder=0,
        )
        for k in range(c):  # where class k stops being the top one: smooth borders
            others = np.delete(probs, k, axis=1).max(axis=1)
            margin = (probs[:, k] - others).reshape(resolution, resolution)
            if margin.min() < 0 < margin.max():
                ax.contour(xs, ys, margin, levels=[0.0], colors="#222222", linewidths=1.1, zorder=1)
    surface.set_gid("surface")

    point_colors = np.array(colors, dtype=object)
    index = class_indices(y, names)
    predicted = class_probabilities(model, x)[0].argmax(axis=1)
    points = ax.scatter(
        x[:, 0],
        x[:, 1],
        c=list(point_colors[index]),
        s=marker_size,
        edgecolors="white",
        linewidths=0.6,
        zorder=3,
    )
    points.set_gid("points" if x_test is None else "train points")
    result: dict[str, Any] = {
        "accuracy": float(np.mean(predicted == index)),
        "n_points": len(x),
        "surface": surface,
        "classes": names,
    }
    if x_test is not None:
        test_index = class_indices(y_test, names)
        test_predicted = class_probabilities(model, x_test)[0].argmax(axis=1)
        test = ax.scatter(
            x_test[:, 0],
            x_test[:, 1],
            facecolors="none",
            edgecolors=list(point_colors[test_index]),
            s=marker_size * 1.3,
            linewidths=1.6,
            marker="o",
            zorder=4,
        )
        test.set_gid("test points")
        result["test_accuracy"] = float(np.mean(test_predicted == test_index))
        result["n_test"] = len(x_test)
    ax.set_xlim(plane[0], plane[1])
    ax.set_ylim(plane[2], plane[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.tick_params(labelsize=8)
    if legend:
        _legend(ax, colors, shown, x_test is not None)
    return result


def _legend(ax: Any, colors: list[str], names: list[str], with_test: bool) -> None:
    from matplotlib.lines import Line2D

    def handle(label: str, **style: Any) -> Any:
        return Line2D([], [], linestyle="", marker="o", markersize=7, label=label, **style)

    handles = [
        handle(name, markerfacecolor=col, markeredgecolor="white")
        for name, col in zip(names, colors)
    ]
    if with_test:
        handles.append(handle("train (filled)", color="#555555"))
        handles.append(
            handle(
                "test (hollow)",
                markerfacecolor="none",
                markeredgecolor="#555555",
                markeredgewidth=1.6,
            )
        )
    from matplotlib.transforms import ScaledTranslation

    below = ScaledTranslation(0.0, -0.5, ax.figure.dpi_scale_trans)  # under the x label,
    ax.legend(  # half an inch down whatever the plot's height
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + below,
        ncol=min(len(handles), 6),
        fontsize=8,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.2,
    )


def accuracy_title(result: dict[str, Any]) -> str:
    """ "train accuracy 98.0%  ·  test accuracy 95.0%" with a test set, else "accuracy 98.0%
    on 200 points" (the points may be the whole data set: they are not called "train")."""
    accuracy = f"{100 * result['accuracy']:.1f}%"
    if "test_accuracy" not in result:
        n = result["n_points"]
        return f"accuracy {accuracy} on {n} point{'s' * (n != 1)}"
    return f"train accuracy {accuracy}  ·  test accuracy {100 * result['test_accuracy']:.1f}%"


# ------------------------------------------------------------------------------ public
def plot_decision_boundary(
    model: Any,
    x: Any,
    y: Any,
    x_test: Any = None,
    y_test: Any = None,
    *,
    classes: Sequence[Any] | None = None,
    class_names: Sequence[str] | None = None,
    resolution: int = 200,
    ax: Any = None,
) -> Any:
    """Colour the input plane by a 2-D classifier's prediction and show the data on it.

    Args:
        model: a classifier with 2 inputs and either 1 output (a logit for binary
            cross-entropy, a score such as micrograd's, a final Tanh's output, or a probability
            after a final Sigmoid) or C outputs (class logits or probabilities).
        x, y: points of shape (n_samples, 2) and their labels, one per point: any values
            (0/1, -1/+1, 1/2, strings; one-hot rows are read as their index). Drawn as filled
            markers coloured by the true label; the title gives the accuracy on them.
        x_test, y_test: optional test points, drawn hollow; then ``x, y`` are called the
            training points and the title gives both accuracies.
        classes: the label of each output, in order (for 1 output: ``[label when output <= 0,
            label when output > 0]``). Default: integer labels in 0..C-1 are the output
            indices (as :func:`sinapsi.fit` trains them); other labels are ordered as
            scikit-learn's ``classes_ = np.unique(y)``, so with -1/+1 or {"no", "yes"} the
            larger label is the class of a positive output.
        class_names: display names of the classes, in the order of the outputs, for the
            legend and colour bar (default: "class <label>").
        resolution: grid points per axis (the plane covers the data with a 10% margin).
            default=200.
        ax: draw into this matplotlib Axes instead of a new figure.

    The predicted class: with 1 output, ``classes[1]`` where the output is > 0 (> 0.5 after a
    final Sigmoid), else ``classes[0]``; with C outputs, the class of the largest output.

    Returns:
        The matplotlib Figure. Binary: orange (class 0) through white (the boundary) to blue
        (class 1): the probability of class 1, or a final Tanh's output, with the boundary as
        a contour. C classes: each region in its class's colour, stronger where the model is
        more confident, with the borders drawn.

    Raises:
        ValueError: the model does not take 2 inputs; ``y`` holds continuous values (a
            regression), more classes than the model has, or labels whose class cannot be
            told (pass ``classes=``); ``x`` holds NaN.
    """
    owner = "plot_decision_boundary"
    check_2d_model(owner, model)
    x, y = check_points(owner, x, y)
    if (x_test is None) != (y_test is None):
        raise ValueError(
            f"{owner}: pass x_test and y_test together (got only "
            f"{'x_test' if y_test is None else 'y_test'})."
        )
    if x_test is not None:
        x_test, y_test = check_points(owner, x_test, y_test, ("x_test", "y_test"))
    if not isinstance(resolution, int) or isinstance(resolution, bool) or resolution < 10:
        raise ValueError(
            f"{owner}: resolution must be an integer >= 10 (grid points per axis; 200 is "
            f"smooth, 50 is quick). Received: resolution={resolution!r}"
        )
    created = ax is None
    if ax is None:
        fig = pyplot().figure(figsize=(6.4, 6.4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    try:
        result = draw_boundary(
            ax,
            model,
            x,
            y,
            x_test,
            y_test,
            classes=classes,
            class_names=class_names,
            resolution=resolution,
            owner=owner,
        )
    except Exception:
        if created:
            pyplot().close(fig)
        raise
    ax.set_title(f"Decision boundary\n{accuracy_title(result)}", fontsize=10)
    if created:  # the plane is drawn to scale: wide data gets a low figure, not a flat strip
        _fit_height(fig, ax)  # under a colour bar as tall as the square figure
    return fig


def _fit_height(fig: Any, ax: Any) -> None:
    """Take away the height that drawing the plane to scale left empty in ``fig``: the new
    height holds the plane's box and what surrounds it (title, labels, legend), no more."""
    fig.canvas.draw()
    width, height = fig.get_size_inches()
    box = ax.get_position().height * height
    if (ax.get_position(original=True).height * height) - box < 0.2:
        return
    around = ax.get_tightbbox(fig.canvas.get_renderer()).height / fig.dpi - box
    fig.set_size_inches(width, max(3.0, box + around + 0.2))
