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

from typing import Any

import numpy as np

from .. import backend
from ..nn.activations import LogSoftmax, Sigmoid, Softmax
from ..tensor import Tensor
from ..train.trainer import predict
from ._colors import NEGATIVE, POSITIVE, diverging_cmap
from ._mpl import linear_layers, pyplot
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
    n_inputs = linear_layers(model)[0].in_features
    if n_inputs != 2:
        raise ValueError(
            f"{owner} draws 2-D inputs; this model takes {n_inputs} features. Use "
            "plot_confusion_matrix or plot_activations instead (or project to 2-D first)"
        )


def _array(value: Any) -> np.ndarray:
    return np.asarray(backend.to_numpy(value.data if isinstance(value, Tensor) else value))


def check_points(owner: str, x: Any, y: Any, names: tuple[str, str] = ("x", "y")) -> tuple:
    """``x`` as float (n, 2) and ``y`` as int labels (n,) (a (n, 1) column is flattened)."""
    x, y = _array(x), _array(y)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(
            f"{owner}: {names[0]} must have shape (n_samples, 2), one point of the plane per "
            f"row; got shape {x.shape}. Project the data to 2-D first, or pass the 2-D set the "
            "model was trained on."
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"{owner}: {names[1]} must hold one class label per point of {names[0]} (shape "
            f"({len(x)},)); got shape {y.shape}."
        )
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)) or y.min() < 0:
            raise ValueError(
                f"{owner}: {names[1]} must hold class labels 0, 1, 2, ...; got non-integer "
                f"values such as {y[np.flatnonzero(y != np.round(y))[:3]].tolist()}. A decision "
                "boundary needs a classifier; for regression plot predictions instead."
            )
    elif y.dtype.kind not in "iub":
        raise ValueError(f"{owner}: {names[1]} must hold integer class labels; got {y.dtype}.")
    return x.astype(np.float64), y.astype(np.int64)


# ------------------------------------------------------------------------------ predictions
def _last_leaf(model: Any) -> Any:
    leaves = [m for m in model.modules() if not list(m.children())]
    return leaves[-1] if leaves else model


def class_probabilities(model: Any, points: np.ndarray) -> np.ndarray:
    """(n, C) class probabilities, C >= 2: sigmoid of a single logit (as two columns) or
    softmax of C logits, as :func:`sinapsi.predict_proba`; outputs that already are
    probabilities (a final Sigmoid/Softmax layer) are used as they are."""
    out = predict(model, points, batch_size=8192).astype(np.float64)
    out = out.reshape(len(out), -1)
    last = _last_leaf(model)
    if out.shape[1] == 1:
        p = out[:, 0] if isinstance(last, Sigmoid) else 0.5 * (1.0 + np.tanh(0.5 * out[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    if isinstance(last, LogSoftmax):
        return np.exp(out)
    if isinstance(last, Softmax):
        return out
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(class_probabilities(model, x).argmax(axis=1) == y))


# ------------------------------------------------------------------------------ drawing
def draw_boundary(
    ax: Any,
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    *,
    resolution: int = 200,
    plane: tuple[float, float, float, float] | None = None,
    legend: bool = True,
    colorbar: bool = True,
    marker_size: float = 28.0,
) -> dict[str, Any]:
    """Draw the surface and points into ``ax``; returns the accuracies and the artists."""
    from matplotlib.lines import Line2D

    both = x if x_test is None else np.concatenate([x, x_test])
    plane = plane or plane_of(both)
    xs = np.linspace(plane[0], plane[1], resolution)
    ys = np.linspace(plane[2], plane[3], resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    probs = class_probabilities(model, grid)
    n_classes = max(
        probs.shape[1], int(y.max()) + 1, 0 if y_test is None else int(y_test.max()) + 1
    )
    colors = class_colors(n_classes)
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
            bar.set_label("P(class 1)", fontsize=9)
            bar.ax.tick_params(labelsize=8)
    else:
        from matplotlib.colors import to_rgb

        labels = probs.argmax(axis=1)
        c = probs.shape[1]
        confidence = (probs.max(axis=1) - 1.0 / c) / (1.0 - 1.0 / c)  # 0 on a tie, 1 when sure
        base = np.array([to_rgb(col) for col in colors])[labels]
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
    train = ax.scatter(
        x[:, 0],
        x[:, 1],
        c=list(point_colors[y]),
        s=marker_size,
        edgecolors="white",
        linewidths=0.6,
        zorder=3,
    )
    train.set_gid("train points")
    result: dict[str, Any] = {"train_accuracy": _accuracy(model, x, y), "surface": surface}
    if x_test is not None:
        test = ax.scatter(
            x_test[:, 0],
            x_test[:, 1],
            facecolors="none",
            edgecolors=list(point_colors[y_test]),
            s=marker_size * 1.3,
            linewidths=1.6,
            marker="o",
            zorder=4,
        )
        test.set_gid("test points")
        result["test_accuracy"] = _accuracy(model, x_test, y_test)
    ax.set_xlim(plane[0], plane[1])
    ax.set_ylim(plane[2], plane[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.tick_params(labelsize=8)
    if legend:
        handles = [
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=7,
                markerfacecolor=col,
                markeredgecolor="white",
                label=f"class {k}",
            )
            for k, col in enumerate(colors)
        ]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=7,
                color="#555555",
                label="train (filled)",
            )
        )
        if x_test is not None:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="",
                    marker="o",
                    markersize=7,
                    markerfacecolor="none",
                    markeredgecolor="#555555",
                    markeredgewidth=1.6,
                    label="test (hollow)",
                )
            )
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.11),
            ncol=min(len(handles), 6),
            fontsize=8,
            frameon=False,
            handletextpad=0.3,
            columnspacing=1.2,
        )
    return result


def accuracy_title(result: dict[str, Any]) -> str:
    text = f"train accuracy {100 * result['train_accuracy']:.1f}%"
    if "test_accuracy" in result:
        text += f"  ·  test accuracy {100 * result['test_accuracy']:.1f}%"
    return text


# ------------------------------------------------------------------------------ public
def plot_decision_boundary(
    model: Any,
    x: Any,
    y: Any,
    x_test: Any = None,
    y_test: Any = None,
    *,
    resolution: int = 200,
    ax: Any = None,
) -> Any:
    """Colour the input plane by a 2-D classifier's prediction and show the data on it.

    Args:
        model: a classifier with 2 inputs and either 1 output (a binary classifier's logit, or
            a probability after a final Sigmoid) or C outputs (class logits or probabilities).
        x, y: training points of shape (n_samples, 2) and their labels 0..C-1, of shape
            (n_samples,) or (n_samples, 1); drawn as filled markers coloured by true label.
        x_test, y_test: optional test points, drawn hollow.
        resolution: grid points per axis (the plane covers the data with a 10% margin).
            default=200.
        ax: draw into this matplotlib Axes instead of a new figure.

    Returns:
        The matplotlib Figure. Binary: the probability of class 1 from orange (0) through
        white (0.5) to blue (1), with the 0.5 contour. C classes: each region in its class's
        colour, stronger where the model is more confident, with the borders drawn. The title
        gives the train (and test) accuracy.
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
    if ax is None:
        fig = pyplot().figure(figsize=(6.4, 6.4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    result = draw_boundary(ax, model, x, y, x_test, y_test, resolution=resolution)
    ax.set_title(f"Decision boundary\n{accuracy_title(result)}", fontsize=10)
    return fig
