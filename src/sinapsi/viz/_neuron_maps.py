"""plot_network's per-neuron maps: each neuron's output over the input plane (2-input models)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..nn.activations import LogSoftmax, Sigmoid, Softmax, Tanh
from ..nn.module import module_dtype, training_mode
from ..tensor import Tensor
from ._network_layout import _Stage


def plane_of(x: Any = None) -> tuple[float, float, float, float]:
    """The input plane ``(x1_min, x1_max, x2_min, x2_max)``: the range of ``x`` with a 10%
    margin, or the Playground's [-6, 6]^2 when ``x`` is None."""
    if x is None:
        return (-6.0, 6.0, -6.0, 6.0)
    x = np.asarray(backend.to_numpy(x.data if isinstance(x, Tensor) else x), dtype=np.float64)
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.maximum((hi - lo) * 0.1, 0.5)
    lo, hi = lo - pad, hi + pad
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def neuron_outputs(
    model: Any, stages: list[_Stage], plane: tuple[float, float, float, float], n: int
) -> list[np.ndarray | None]:
    """Each stage's post-activation output over an ``n x n`` grid of the plane, as arrays of
    shape (size, n, n) (row = x2, column = x1); None where a stage could not be captured.

    The grid runs through the model once, in eval mode and with no graph, while forward hooks
    on each stage's last module keep its output.
    """
    xs = np.linspace(plane[0], plane[1], n)
    ys = np.linspace(plane[2], plane[3], n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    captured: dict[int, np.ndarray] = {}
    removers = []
    for k, stage in enumerate(stages[1:], start=1):
        last = (stage.extras or [stage.linear])[-1]

        def keep(module: Any, inputs: Any, output: Any, k: int = k) -> None:
            if k not in captured:  # a module used twice keeps its first call
                data = output.data if isinstance(output, Tensor) else output
                captured[k] = np.asarray(backend.to_numpy(data), dtype=np.float64)

        removers.append(last.register_forward_hook(keep))
    try:
        with no_grad(), training_mode(False):  # eval mode for this thread only
            model(Tensor(grid, dtype=module_dtype(model)))
    finally:
        for remove in removers:
            remove()
    result: list[np.ndarray | None] = [None]
    for k, stage in enumerate(stages[1:], start=1):
        out = captured.get(k)
        if out is None or out.shape != (n * n, stage.size):
            result.append(None)
        else:
            result.append(out.T.reshape(stage.size, n, n))
    return result


def _map_norm(stage: _Stage, values: np.ndarray) -> tuple[float, float]:
    """(vmin, vmax) of a neuron's map, always symmetric around 0 so that blue means positive
    and orange negative: [-1, 1] for bounded activations (tanh; sigmoid and softmax, whose
    (0, 1) outputs go from white to blue), so saturation shows; else the neuron's max |value|."""
    act = stage.activation()
    if isinstance(act, (Tanh, Sigmoid, Softmax)) and not isinstance(act, LogSoftmax):
        return -1.0, 1.0
    m = float(np.abs(values).max()) or 1.0
    return -m, m
