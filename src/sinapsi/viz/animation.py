"""Training as a film: the decision surface (and the neurons' maps) epoch by epoch, as a GIF.

:func:`animate_training` trains the model with :func:`sinapsi.fit` and records a frame every
``frame_every`` epochs: on the left the decision surface with the data, on the right (for small
2-input models) the network with each neuron's output over the plane, as in TensorFlow
Playground. Watching the first hidden layer's lines turn and the output's region take shape is
the point of the exercise.

>>> import sinapsi as sn
>>> from sinapsi import nn
>>> from sinapsi.data.datasets import circles
>>> from sinapsi.viz.animation import animate_training
>>> x, y = circles(200, noise=0.05, seed=0)
>>> model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
>>> path = animate_training(model, x, y, "training.gif", epochs=30, frame_every=3,
...                         lr=0.05, seed=0)   # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..train.callbacks import Callback
from ..train.trainer import fit
from ._mpl import input_size, pyplot
from ._network_layout import _maps_by_default, _stages
from ._neuron_maps import plane_of
from .boundary import accuracy_title, check_2d_model, check_points, draw_boundary
from .network import draw_network

__all__ = ["animate_training"]

_DPI = 100
_MAX_NODES = 10


class _FrameRecorder(Callback):
    """Renders a frame after every ``every``-th epoch and after the last one."""

    def __init__(self, render: Any, every: int, epochs: int) -> None:
        self.render, self.every, self.epochs = render, every, epochs
        self.frames: list[Any] = []
        self.last: tuple[int, dict[str, Any]] | None = None
        self.recorded = -1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.last = (epoch, dict(logs))
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            self.frames.append(self.render(epoch + 1, logs))
            self.recorded = epoch

    def on_train_end(self, logs: dict[str, Any]) -> None:
        # Stopped early (e.g. EarlyStopping) between two recorded epochs: show the end too.
        if self.last is not None and self.last[0] != self.recorded:
            self.frames.append(self.render(self.last[0] + 1, self.last[1]))


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"animate_training: {name} must be an integer >= 1. Received: {name}={value!r}"
        )


def animate_training(
    model: Any,
    x: Any,
    y: Any,
    path: str | os.PathLike[str],
    *,
    epochs: int = 50,
    frame_every: int = 1,
    fps: float = 8,
    x_test: Any = None,
    y_test: Any = None,
    **fit_kwargs: Any,
) -> Path:
    """Train ``model`` on 2-D data and write a GIF of its decision surface, epoch by epoch.

    Args:
        model: a classifier with 2 inputs (see :func:`plot_decision_boundary`).
        x, y: the training data, passed to :func:`sinapsi.fit` as given (e.g. ``y`` of shape
            (n, 1) floats for ``loss="bce_with_logits"``); the picture uses the labels.
        path: where to write the GIF (``.gif``). Written atomically: if training or drawing
            fails, no file (and no half-written file) is left.
        epochs: epochs to train. default=50.
        frame_every: record a frame after every this many epochs (and after the last), so
            ``epochs=6, frame_every=2`` gives 3 frames (epochs 2, 4, 6). default=1.
        fps: frames per second of the GIF (the last frame is held 1 second longer). default=8.
        x_test, y_test: optional test points, drawn hollow; their accuracy is in each frame.
        **fit_kwargs: anything else for :func:`sinapsi.fit` (``loss``, ``optimizer``, ``lr``,
            ``batch_size``, ``seed``, ``callbacks``, ...). ``verbose`` defaults to 0.

    Returns:
        The path of the GIF. Each frame is about 7 x 3.4 inches at 100 dpi (the surface alone
        for models too large for per-neuron maps), so 30 frames take a few hundred kB to a
        few MB.
    """
    owner = "animate_training"
    check_2d_model(owner, model)
    points, labels = check_points(owner, x, y)
    if (x_test is None) != (y_test is None):
        raise ValueError(f"{owner}: pass x_test and y_test together.")
    test_points = test_labels = None
    if x_test is not None:
        test_points, test_labels = check_points(owner, x_test, y_test, ("x_test", "y_test"))
    _positive_int("epochs", epochs)
    _positive_int("frame_every", frame_every)
    if not isinstance(fps, (int, float)) or isinstance(fps, bool) or not fps > 0:
        raise ValueError(f"{owner}: fps must be a positive number. Received: fps={fps!r}")
    target = Path(path)
    if target.suffix.lower() != ".gif":
        raise ValueError(
            f"{owner} writes a GIF; the path must end in .gif. Received: path={str(path)!r}"
        )
    for name in ("epochs", "x", "y"):
        if name in fit_kwargs:
            raise TypeError(f"{owner}: {name} is given twice (as an argument and in fit_kwargs).")

    stages = _stages(model)
    show_network = _maps_by_default(stages, _MAX_NODES, input_size(model))
    both = points if test_points is None else np.concatenate([points, test_points])
    plane = plane_of(both)
    plt = pyplot()
    size = (7.0, 3.4) if show_network else (3.9, 3.9)
    fig = plt.figure(figsize=size, dpi=_DPI)

    def render(epoch: int, logs: dict[str, Any]) -> Any:
        from PIL import Image

        fig.clear()
        w, h = size
        if show_network:
            ax = fig.add_axes((0.45 / w, 0.45 / h, 2.6 / w, 2.45 / h))
            net_ax = fig.add_axes((3.35 / w, 0.05 / h, 3.55 / w, 2.9 / h))
            draw_network(
                net_ax, model, stages, max_nodes=_MAX_NODES, maps=True, show_bias=True, plane=plane
            )
        else:
            ax = fig.add_axes((0.5 / w, 0.45 / h, 3.2 / w, 2.9 / h))
        result = draw_boundary(
            ax,
            model,
            points,
            labels,
            test_points,
            test_labels,
            resolution=80,
            plane=plane,
            legend=False,
            colorbar=False,
            marker_size=9.0,
        )
        ax.set_title(accuracy_title(result).replace("accuracy", "acc."), fontsize=8)
        ax.xaxis.label.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)
        ax.tick_params(labelsize=7)
        loss = f"epoch {epoch}, loss {logs['loss']:.4f}"
        if "val_loss" in logs:
            loss += f", val_loss {logs['val_loss']:.4f}"
        fig.suptitle(loss, x=0.02, ha="left", y=0.985, va="top", fontsize=10)
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        return Image.fromarray(rgba[..., :3].copy())

    recorder = _FrameRecorder(render, frame_every, epochs)
    callbacks = [*fit_kwargs.pop("callbacks", ()), recorder]
    fit_kwargs.setdefault("verbose", 0)
    try:
        fit(model, x, y, epochs=epochs, callbacks=callbacks, **fit_kwargs)
    finally:
        plt.close(fig)
    frames = recorder.frames
    step = max(1, round(1000 / fps))
    durations = [step] * (len(frames) - 1) + [step + 1000]

    def write(f: Any) -> None:
        frames[0].save(
            f, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0
        )

    from ..io import atomic_write

    return atomic_write(target, write)
