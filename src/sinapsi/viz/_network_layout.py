"""plot_network's geometry: the model read as columns of neurons, and where each node goes.

A *stage* is one column: the input, or a Linear layer with the modules that follow it up to the
next Linear (activation, BatchNorm, Dropout, ...), named under the column ("Linear 8 + tanh").
Positions are in data units, one unit being the spacing between two nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import backend
from ..nn.activations import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from ..nn.layers import Dropout, Identity, Linear
from ..nn.normalization import BatchNorm1d
from ._mpl import linear_layers

# Layout, in data units: one slot (node spacing) = 1.
_COLUMN_GAP = 2.6
_RADIUS = 0.4


# ------------------------------------------------------------------------------ structure
@dataclass
class _Stage:
    """One column: the input, or a Linear layer with the modules that follow it."""

    size: int
    linear: Linear | None = None
    extras: list[Any] = field(default_factory=list)

    def activation(self) -> Any:
        """The last module that is not Dropout/Identity (whose output the maps show)."""
        for module in reversed(self.extras):
            if not isinstance(module, (Dropout, Identity)):
                return module
        return self.linear


_NAMES = {
    Sigmoid: "sigmoid", Tanh: "tanh", ReLU: "ReLU", LeakyReLU: "leaky ReLU", ELU: "ELU",
    GELU: "GELU", Softplus: "softplus", LogSoftmax: "log-softmax", Softmax: "softmax",
}  # fmt: skip


def _token(module: Any) -> str | None:
    if isinstance(module, Identity):
        return None
    if isinstance(module, Dropout):
        return f"Dropout {module.p:g}"
    if isinstance(module, BatchNorm1d):
        return "BatchNorm"
    return _NAMES.get(type(module), type(module).__name__)


def _stages(model: Any) -> list[_Stage]:
    """Read the model's leaf modules in order and group them by Linear layer."""
    first = linear_layers(model)[0]
    stages = [_Stage(first.in_features)]
    for module in model.modules():
        if list(module.children()):
            continue  # containers: their leaves come next
        if isinstance(module, Linear):
            previous = stages[-1].size
            if module.in_features != previous:
                raise ValueError(
                    f"plot_network draws a chain of Linear layers, but Linear "
                    f"({module.in_features} -> {module.out_features}) takes {module.in_features} "
                    f"inputs while the layer before it gives {previous}. Draw a Sequential MLP, "
                    "or use plot_activations for models that are not a chain."
                )
            stages.append(_Stage(module.out_features, module))
        else:
            stages[-1].extras.append(module)
    return stages


def _wrap(tokens: list[str], width: int = 18) -> str:
    """Join tokens with ' + ', starting a new line (with '+ ') when a line gets too long."""
    lines = [tokens[0]]
    for token in tokens[1:]:
        if len(lines[-1]) + 3 + len(token) <= width:
            lines[-1] += f" + {token}"
        else:
            lines.append(f"+ {token}")
    return "\n".join(lines)


def _label(stages: list[_Stage], k: int, width: int = 18) -> str:
    stage = stages[k]
    tokens = [t for t in map(_token, stage.extras) if t]
    if k == 0:
        head = f"input ({stage.size})"
    elif k == len(stages) - 1:
        head = f"output ({stage.size})"
    else:
        head = f"Linear {stage.size}"
    return _wrap([head, *tokens], width)


def _maps_by_default(stages: list[_Stage], max_nodes: int, n_inputs: int) -> bool:
    """Maps over the plane for models of 2 raw inputs whose layers all fit."""
    return n_inputs == 2 and all(s.size <= max_nodes for s in stages)


# ------------------------------------------------------------------------------ drawing
@dataclass
class _Layout:
    slots: list[list[tuple[int, float]]]  # per stage: (neuron index, y) of each drawn node
    gaps: list[float | None]  # per stage: y of the ellipsis, or None
    xs: list[float]
    top: float
    bottom: float  # lowest node centre
    truncated: bool


def _layout(stages: list[_Stage], max_nodes: int) -> _Layout:
    slots, gaps = [], []
    for stage in stages:
        n = stage.size
        if n <= max_nodes:
            shown, gap = list(range(n)), None
            count = n
        else:
            head = math.ceil(max_nodes / 2)
            shown = list(range(head)) + list(range(n - (max_nodes - head), n))
            gap, count = head, max_nodes + 1
        ys = [(count - 1) / 2 - s for s in range(count)]
        positions = [ys[s if gap is None or s < gap else s + 1] for s, _ in enumerate(shown)]
        slots.append(list(zip(shown, positions)))
        gaps.append(None if gap is None else ys[gap])
    tallest = max(len(s) + (g is not None) for s, g in zip(slots, gaps))
    return _Layout(
        slots=slots,
        gaps=gaps,
        xs=[k * _COLUMN_GAP for k in range(len(stages))],
        top=(tallest - 1) / 2,
        bottom=-(tallest - 1) / 2,
        truncated=any(g is not None for g in gaps),
    )


def _points_per_unit(ax: Any, width: float, height: float) -> float:
    """How many points one data unit spans once the axes show ``width x height`` units."""
    fig = ax.figure
    box = ax.get_position()
    w_in = box.width * fig.get_figwidth()
    h_in = box.height * fig.get_figheight()
    return 72.0 * min(w_in / width, h_in / height)


def _labels(stages: list[_Stage], pt: float) -> tuple[list[str], float]:
    """Column labels wrapped to the column width, and their font size, at ``pt`` points per
    data unit."""
    size = min(8.0, max(6.5, 0.2 * pt))
    width = max(8, int(_COLUMN_GAP * pt * 0.9 / (0.58 * size)))
    return [_label(stages, k, width) for k in range(len(stages))], size


def _limits(
    layout: _Layout, labels: list[str], size: float, pt: float, right_chars: int = 0
) -> tuple[float, ...]:
    """The drawing's extent in data units; ``right_chars``: the longest text right of the
    output nodes (their names)."""
    label_lines = max(label.count("\n") + 1 for label in labels)
    line = 1.2 * size / pt  # one label line, in data units
    left, right = -0.8, layout.xs[-1] + 0.8
    if right_chars:
        right = max(right, layout.xs[-1] + _RADIUS + 0.2 + right_chars * 0.62 * size / pt)
    top = layout.top + _RADIUS + (0.25 + 2 * line if layout.truncated else 0.2)
    bottom = layout.bottom - _RADIUS - 0.3 - label_lines * line
    return left, right, bottom, top


def effective_parameters(stage: _Stage) -> tuple[Any, Any, bool]:
    """``(weight, bias, folded)`` of a stage's neurons, as float64 NumPy arrays (bias None
    when there is none).

    A Linear followed by BatchNorm1d (only Dropout/Identity between them) computes, in eval
    mode, ``gamma * (W x + b - mean) / sqrt(var + eps) + beta``: one linear function with
    weights ``s * W`` and bias ``beta + s * (b - mean)``, ``s = gamma / sqrt(var + eps)``.
    Those folded values are returned (``folded=True``): Linear's own bias is redundant there
    (BatchNorm subtracts it again), and BatchNorm's shift is the bias that matters. A
    BatchNorm without running statistics normalizes with each batch's, which cannot be folded:
    then the Linear's own values are returned.
    """

    def numpy(value: Any) -> Any:
        return np.asarray(backend.to_numpy(getattr(value, "data", value)), dtype=np.float64)

    weight = numpy(stage.linear.weight)
    bias = None if stage.linear.bias is None else numpy(stage.linear.bias)
    follower = next((m for m in stage.extras if not isinstance(m, (Dropout, Identity))), None)
    if not isinstance(follower, BatchNorm1d) or follower.running_mean is None:
        return weight, bias, False
    n = weight.shape[0]
    gamma = numpy(follower.weight) if follower.affine else np.ones(n)
    beta = numpy(follower.bias) if follower.affine else np.zeros(n)
    scale = gamma / np.sqrt(numpy(follower.running_var) + follower.eps)
    own = np.zeros(n) if bias is None else bias
    return scale[:, None] * weight, beta + scale * (own - numpy(follower.running_mean)), True
