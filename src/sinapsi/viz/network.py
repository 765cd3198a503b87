"""The network as a picture: layers of neurons, weights as edges, per-neuron maps.

:func:`plot_network` draws a multilayer perceptron the way the notes (and TensorFlow
Playground) do: one column of nodes per layer, from the input on the left to the output on the
right. Each neuron computes a linear function of the previous layer (its incoming weights are
the slopes, its bias the intercept) and then an activation.

- An edge is one weight: blue when positive, orange when negative (the Playground's colours),
  thicker when ``|w|`` is larger (relative to the largest ``|w|`` of that layer).
- A node's fill (or its small square, when maps are drawn) is its bias, on the same
  orange-white-blue scale.
- For a model with 2 inputs, each node can show a small heat map: that neuron's output at
  every point of the input plane. The first hidden layer draws lines and bends; the later ones
  combine them; the output node shows the final decision surface.

>>> from sinapsi import nn
>>> from sinapsi.viz.network import plot_network
>>> model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
>>> fig = plot_network(model)              # per-neuron maps on: 2 inputs, small layers
>>> len(fig.axes[0].images)                # one heat map per neuron: 4 hidden + 1 output
5
>>> fig.savefig("network.png", dpi=150)    # doctest: +SKIP
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..nn.activations import Sigmoid
from ..tensor import Tensor
from ._colors import NEGATIVE, POSITIVE, diverging_cmap
from ._colors import NODE_EDGE as _NODE_EDGE
from ._colors import luminance as _luminance
from ._mpl import input_size, pyplot
from ._network_layout import (
    _RADIUS,
    _labels,
    _layout,
    _limits,
    _maps_by_default,
    _points_per_unit,
    _Stage,
    _stages,
    effective_parameters,
)
from ._neuron_maps import _map_norm, neuron_outputs, plane_of

__all__ = ["plot_network", "POSITIVE", "NEGATIVE"]

_MAP_RESOLUTION = 48


def draw_network(
    ax: Any,
    model: Any,
    stages: list[_Stage],
    *,
    max_nodes: int,
    maps: bool,
    show_bias: bool,
    plane: tuple[float, float, float, float],
    output_names: list[str] | None = None,
) -> dict[str, Any]:
    """Draw the network into ``ax`` (whose position in the figure is already set);
    ``output_names``: one text per output node, written right of it."""
    from matplotlib.colors import Normalize, to_rgb
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Rectangle

    check_finite(model, stages)
    layout = _layout(stages, max_nodes)
    # The extents depend on the labels' height in points, which depends on the scale: iterate.
    pt = 36.0
    for _ in range(3):
        labels, label_size = _labels(stages, pt)
        left, right, bottom, top = _limits(layout, labels, label_size, pt, _longest(output_names))
        pt = _points_per_unit(ax, right - left, top - bottom)
    # Widen the limits to the axes' own shape, so that one unit is as long in x as in y.
    box = ax.get_position()
    half_w = box.width * ax.figure.get_figwidth() * 72 / pt / 2
    half_h = box.height * ax.figure.get_figheight() * 72 / pt / 2
    mid_x, mid_y = (left + right) / 2, (bottom + top) / 2
    ax.set_xlim(mid_x - half_w, mid_x + half_w)
    ax.set_ylim(mid_y - half_h, mid_y + half_h)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    radius_pt = _RADIUS * pt
    cmap = diverging_cmap()
    fills = diverging_cmap(0.55)

    params = [None, *(effective_parameters(stage) for stage in stages[1:])]
    # Edges: one Line2D per drawn weight, under the nodes.
    n_edges = sum(len(a) * len(b) for a, b in zip(layout.slots, layout.slots[1:]))
    widest = 3.2 if n_edges <= 150 else 2.4
    for k in range(1, len(stages)):
        w = params[k][0]
        scale = float(np.abs(w).max()) or 1.0
        for j, yj in layout.slots[k]:
            for i, yi in layout.slots[k - 1]:
                value = float(w[j, i])
                strength = abs(value) / scale
                line = Line2D(
                    [layout.xs[k - 1], layout.xs[k]],
                    [yi, yj],
                    color=POSITIVE if value >= 0 else NEGATIVE,
                    linewidth=0.35 + (widest - 0.35) * strength,
                    alpha=0.3 + 0.7 * strength,
                    solid_capstyle="butt",
                    zorder=1,
                )
                line.set_gid(f"edge:{k}:{j}:{i}")
                ax.add_line(line)

    values = neuron_outputs(model, stages, plane, _MAP_RESOLUTION) if maps else None
    for k, stage in enumerate(stages):
        x = layout.xs[k]
        bias = None
        if k and show_bias:
            bias = params[k][1]
        bias_norm = (
            Normalize(-(np.abs(bias).max() or 1.0), np.abs(bias).max() or 1.0)
            if (bias is not None)
            else None
        )
        stage_maps = values[k] if values is not None else None
        for j, y in layout.slots[k]:
            draws_map = stage_maps is not None
            face = "white"
            if bias is not None and not draws_map:
                face = fills(bias_norm(bias[j]))
            elif k == 0 and not maps:
                face = "#f2f2f2"
            node = Circle(
                (x, y),
                _RADIUS,
                facecolor="none" if draws_map else face,
                edgecolor=_NODE_EDGE,
                linewidth=0.9,
                zorder=3,
            )
            node.set_gid(f"node:{k}:{j}")
            ax.add_patch(node)
            if draws_map:
                vmin, vmax = _map_norm(stage, stage_maps[j])
                image = ax.imshow(
                    stage_maps[j],
                    cmap=cmap,
                    vmin=vmin,
                    vmax=vmax,
                    origin="lower",
                    extent=(x - _RADIUS, x + _RADIUS, y - _RADIUS, y + _RADIUS),
                    interpolation="bilinear",
                    zorder=2.5,
                )
                image.set_clip_path(node)
                image.set_gid(f"map:{k}:{j}")
                if bias is not None:  # the Playground's small bias square, lower left
                    side = 0.3 * _RADIUS
                    square = Rectangle(
                        (x - _RADIUS - 0.15 * side, y - _RADIUS - 0.15 * side),
                        side,
                        side,
                        facecolor=cmap(bias_norm(bias[j])),
                        edgecolor=_NODE_EDGE,
                        linewidth=0.5,
                        zorder=4,
                    )
                    square.set_gid(f"bias:{k}:{j}")
                    ax.add_patch(square)
                continue
            if k == 0:
                text, color = _input_name(stages[0], j), "#333333"
                size = min(9.0, radius_pt * 0.75)
            elif bias is not None:
                text = f"b={bias[j]:.2f}".replace("-0.00", "0.00")
                color = "white" if _luminance(to_rgb(face)) < 0.5 else "#222222"
                size = min(7.0, 1.45 * radius_pt / (0.6 * max(7, len(text))))  # one size
            else:
                continue
            ax.text(
                x, y, text, ha="center", va="center", fontsize=size, color=color, zorder=5,
                gid=f"text:{k}:{j}",
            )  # fmt: skip
        if layout.gaps[k] is not None:
            ax.text(
                x,
                layout.gaps[k],
                "⋮",
                ha="center",
                va="center",
                fontsize=min(16, radius_pt),
                color="#444444",
                zorder=5,
                gid=f"ellipsis:{k}",
            )
            ax.text(
                x,
                layout.top + _RADIUS + 0.15,
                f"n = {stage.size}",
                ha="center",
                va="bottom",
                fontsize=label_size,
                color="#333333",
                gid=f"count:{k}",
            )
        ax.text(
            x,
            layout.bottom - _RADIUS - 0.3,
            labels[k],
            ha="center",
            va="top",
            fontsize=label_size,
            linespacing=1.15,
            color="#222222",
            gid=f"label:{k}",
        )
    if output_names is not None:
        for j, y in layout.slots[-1]:
            ax.text(
                layout.xs[-1] + _RADIUS + 0.15, y, output_names[j], ha="left", va="center",
                fontsize=label_size, linespacing=1.1, color="#222222", gid=f"name:{j}",
            )  # fmt: skip
    return {"layout": layout, "maps": values is not None}


def check_finite(model: Any, stages: list[_Stage]) -> None:
    """A diverged model (NaN or inf weights) has nothing to draw: say which layer and why."""
    names = {id(m): n for n, m in model.named_modules()}
    for stage in stages[1:]:
        weight, bias, _ = effective_parameters(stage)
        bad = int((~np.isfinite(weight)).sum())
        bad += 0 if bias is None else int((~np.isfinite(bias)).sum())
        if bad:
            layer = stage.linear
            raise ValueError(
                f"plot_network: layer {names.get(id(layer), '?')} (Linear {layer.in_features} "
                f"-> {layer.out_features}) holds {bad} non-finite weight{'s' * (bad > 1)} (NaN "
                "or inf): the training diverged. Lower the learning rate or clip the gradients "
                "(fit(..., clip_grad_norm=1.0)) and train again."
            )


def _longest(names: list[str] | None) -> int:
    return max((len(line) for n in names for line in n.split("\n")), default=0) if names else 0


def _output_names(stages: list[_Stage], class_names: Any) -> list[str] | None:
    """One text per output node: its class name; a single output gets both classes and the
    rule between them ("> 0: yes / ≤ 0: no")."""
    if class_names is None:
        return None
    names = [str(n) for n in class_names]
    n_out = stages[-1].size
    if n_out == 1 and len(names) == 2:
        cut = "0.5" if isinstance(stages[-1].activation(), Sigmoid) else "0"
        return [f"> {cut}: {names[1]}\n≤ {cut}: {names[0]}"]
    if len(names) != n_out:
        two = " (or 2 for a single output: the classes below and above its threshold)"
        raise ValueError(
            f"plot_network: class_names has {len(names)} names but the model has {n_out} "
            f"output{'s' * (n_out != 1)}; pass one name per output{two if n_out == 1 else ''}. "
            f"Received: class_names={names!r}"
        )
    return names


def _legend_handles(maps: bool, show_bias: bool) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    light = diverging_cmap() if maps else diverging_cmap(0.55)
    handles = [
        Line2D([], [], color=POSITIVE, linewidth=2.5, label="weight > 0 (blue)"),
        Line2D([], [], color=NEGATIVE, linewidth=2.5, label="weight < 0 (orange)"),
    ]
    if show_bias:
        handles += [
            Patch(facecolor=light(1.0), edgecolor=_NODE_EDGE, label="bias > 0"),
            Patch(facecolor=light(0.0), edgecolor=_NODE_EDGE, label="bias < 0"),
        ]
    return handles


# ------------------------------------------------------------------------------ public
_MATH_NAMES = {"x1": "$x_1$", "x2": "$x_2$", "x1^2": "$x_1^2$", "x2^2": "$x_2^2$",
               "x1*x2": "$x_1x_2$", "sin(x1)": "sin $x_1$", "sin(x2)": "sin $x_2$"}  # fmt: skip


def _input_name(stage: _Stage, j: int) -> str:
    """Input node j's label: the Playground feature it is (a PointFeatures in front), else
    x_j."""
    from ..nn.features import PointFeatures

    for module in stage.extras:
        if isinstance(module, PointFeatures) and j < len(module.features):
            return _MATH_NAMES[module.features[j]]
    return f"$x_{{{j + 1}}}$"


def plot_network(
    model: Any,
    x: Any = None,
    *,
    max_nodes: int = 10,
    neuron_maps: bool | None = None,
    show_bias: bool = True,
    class_names: Sequence[Any] | None = None,
) -> Any:
    """Draw a multilayer perceptron: nodes per layer, weights as edges, biases, and (for 2
    inputs) each neuron's output over the input plane.

    Args:
        model: a model whose Linear layers form a chain (an ``nn.Sequential`` MLP). Modules
            between them (activations, BatchNorm1d, Dropout) are read in order and named under
            their layer's column ("Linear 8 + tanh").
        x: optional inputs of shape (n_samples, 2); their range (plus 10%) is the plane of the
            neuron maps. Default: [-6, 6]^2, the Playground's plane.
        max_nodes: layers with more neurons show the first and last few, an ellipsis and the
            count ("n = 256"). default=10.
        neuron_maps: draw inside each hidden and output node its output over the input plane
            (the model must take 2 inputs). default=None: on for 2-input models whose layers
            all fit in ``max_nodes``.
        show_bias: show each neuron's bias: the node's fill colour and a "b=0.12" label, or
            a small square at the node's lower left when maps are drawn. default=True.
            A Linear followed by BatchNorm1d is drawn as the one linear function it computes
            in eval mode: edges ``s * w`` and bias ``beta + s * (b - running_mean)``, with
            ``s = gamma / sqrt(running_var + eps)`` (BatchNorm's shift is the bias that
            matters; Linear's own is redundant). The caption says when this is done.
        class_names: names of the outputs, written right of the output nodes: one per output,
            or two for a single-output binary model (the class above and below its threshold,
            0, or 0.5 after a final Sigmoid).

    Returns:
        The matplotlib Figure (save it with ``fig.savefig("net.png")``, ``.svg`` or ``.pdf``).

    Edge colour is the weight's sign (TensorFlow Playground's blue for positive, orange for
    negative); width is ``|w|`` relative to the largest ``|w|`` of the same layer. Maps use
    the same blue/orange scale, centred at 0: fixed [-1, 1] after tanh, sigmoid and softmax (so
    saturation shows), else up to each neuron's largest ``|output|``.
    """
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 2:
        raise ValueError(
            f"plot_network: max_nodes must be an integer >= 2 (nodes drawn per layer). "
            f"Received: max_nodes={max_nodes!r}"
        )
    stages = _stages(model)
    n_inputs = input_size(model)  # 2 raw coordinates when PointFeatures makes the inputs
    if neuron_maps and n_inputs != 2:
        raise ValueError(
            f"plot_network: per-neuron maps need 2 inputs (a map over the input plane), but "
            f"this model takes {n_inputs}. Use neuron_maps=False, or plot_activations to see "
            "what the neurons do on your data."
        )
    if x is not None:
        arr = np.asarray(backend.to_numpy(x.data if isinstance(x, Tensor) else x))
        if arr.ndim != 2 or arr.shape[1] != n_inputs or len(arr) == 0:
            raise ValueError(
                f"plot_network: x must have shape (n_samples, {n_inputs}) for this model; got "
                f"shape {arr.shape}. Pass the data the model was trained on, or x=None."
            )
    maps = (
        _maps_by_default(stages, max_nodes, n_inputs) if neuron_maps is None else bool(neuron_maps)
    )
    plane = plane_of(x)
    no_maps = ""
    if maps and neuron_maps is None:  # maps by default: only if the model runs
        try:
            neuron_outputs(model, stages, plane, 2)
        except Exception as e:  # e.g. a Normalization not adapted yet: draw the rest
            maps, no_maps = False, f"No neuron maps: {str(e).split(': ')[0].split('. ')[0]}."
    names = _output_names(stages, class_names)
    check_finite(model, stages)

    # Figure size from the layout: one data unit (the node spacing) is ~0.6 inch, less for
    # tall networks; below the drawing, a legend row and a caption.
    layout = _layout(stages, max_nodes)
    inch = min(0.6, 8.0 / (layout.top - layout.bottom + 3))
    left, right, bottom, top = _limits(
        layout, *_labels(stages, 72 * inch), 72 * inch, _longest(names)
    )
    folded = any(effective_parameters(stage)[2] for stage in stages[1:])
    caption = _caption(maps, show_bias, plane, folded, _truncated(stages, max_nodes))
    caption += f"\n{no_maps}" if no_maps else ""
    caption_in = 0.16 * (caption.count("\n") + 1) + 0.1
    title_in, legend_in = 0.5, 0.4
    draw_w, draw_h = (right - left) * inch, (top - bottom) * inch
    fig_w = max(draw_w + 0.4, 6.4)
    fig_h = title_in + draw_h + legend_in + caption_in
    plt = pyplot()
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes(
        (
            (fig_w - draw_w) / 2 / fig_w,
            (legend_in + caption_in) / fig_h,
            draw_w / fig_w,
            draw_h / fig_h,
        )
    )
    draw_network(
        ax,
        model,
        stages,
        max_nodes=max_nodes,
        maps=maps,
        show_bias=show_bias,
        plane=plane,
        output_names=names,
    )
    sizes = "-".join(str(s.size) for s in stages)
    n_params = sum(int(np.prod(p.shape)) for p in model.parameters())
    fig.suptitle(
        f"{type(model).__name__} {sizes}  ·  {n_params:,} parameters",
        y=1 - 0.15 / fig_h,
        va="top",
        fontsize=11,
    )
    handles = _legend_handles(maps, show_bias)
    fig.legend(
        handles=handles,
        loc="center",
        bbox_to_anchor=(0.5, (caption_in + legend_in / 2) / fig_h),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        handlelength=1.8,
        columnspacing=1.6,
    )
    fig.text(
        0.5,
        0.08 / fig_h,
        caption,
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="#333333",
        linespacing=1.3,
    )
    return fig


def _truncated(stages: list[_Stage], max_nodes: int) -> str:
    sizes = [str(stage.size) for stage in stages if stage.size > max_nodes]
    if not sizes:
        return ""
    return (
        f"Layers of more than {max_nodes} neurons ({', '.join(sizes)}) show {max_nodes} of "
        "them, the first and last ones; ⋮ stands for the rest."
    )


def _caption(
    maps: bool,
    show_bias: bool,
    plane: tuple[float, float, float, float],
    folded: bool = False,
    truncated: str = "",
) -> str:
    lines = ["Edge width ∝ |w|, relative to the largest |w| of its layer."]
    if maps:
        x1 = f"[{plane[0]:.3g}, {plane[1]:.3g}]"
        x2 = f"[{plane[2]:.3g}, {plane[3]:.3g}]"
        lines[0] = lines[0][:-1] + "; inside each node: the neuron's output over the inputs"
        lines.append(
            f"x₁ ∈ {x1} (→) and x₂ ∈ {x2} (↑), blue > 0, orange < 0"
            + ("; small square: its bias." if show_bias else ".")
        )
    elif show_bias:
        lines[0] += " Node colour and number: the neuron's bias b."
    if folded:
        lines.append(
            "Linear + BatchNorm folded (eval mode): w·γ/√(var+ε) and b = β + γ(b − mean)/√(var+ε)."
        )
    if truncated:
        lines.append(truncated)
    return "\n".join(lines)
