"""A training run as one self-contained HTML page: summary, curves, diagram, gradients, metrics.

Every picture is embedded as a base64 PNG, so ``report.html`` is a single file that opens
anywhere, offline, and can be mailed or archived. A section whose picture does not apply (a
per-neuron map for a 64-input model, a confusion matrix for regression) is left out with a
one-line note rather than failing the whole report.
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..train.metrics import LOWER_IS_BETTER
from ._mpl import input_size, linear_layers, pyplot

__all__ = ["build_report", "write_report", "figure_to_data_uri"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } .sub { color: #666; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; } td, th { padding: 0.25em 0.9em; text-align: left; }
tr:nth-child(even) { background: #f5f5f5; } td.num { text-align: right;
  font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.note { color: #8a5a00; font-style: italic; }
.verdict { font-weight: 600; padding: 0.3em 0.7em; display: inline-block; border-radius: 4px; }
.met { color: #1b6e20; } .missed { color: #b00020; }
.verdict.met { background: #e8f5e9; } .verdict.missed { background: #fdecea; }
"""


def figure_to_data_uri(
    fig: Any, dpi: int = 100, *, tight: bool = True, colors: int | None = None
) -> str:
    """PNG bytes of ``fig`` as a ``data:`` URI (and close the figure). ``tight``: trim the
    margins (a constrained layout needs no trimming); ``colors``: a palette PNG of that many
    colours, about a third of the full-colour size for flat colours and thin lines."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    pyplot().close(fig)
    if colors is not None:
        from PIL import Image

        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        small = image.quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        small.save(buffer, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure_section(title: str, draw: Callable[[], Any], caption: str = "") -> str:
    try:
        uri = figure_to_data_uri(draw())
    except Exception as e:  # one picture must not cost the whole report of a finished run
        why = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        return f'<h2>{html.escape(title)}</h2><p class="note">Not drawn: {html.escape(why)}</p>'
    alt = html.escape(title)
    text = f"<p>{html.escape(caption)}</p>" if caption else ""
    return f'<h2>{alt}</h2>{text}<img alt="{alt}" src="{uri}">'


def _metrics_table(metrics: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td>{html.escape(str(k))}</td><td class="num">{v:.4f}</td></tr>'
        if isinstance(v, float)
        else f'<tr><td>{html.escape(str(k))}</td><td class="num">{html.escape(str(v))}</td></tr>'
        for k, v in metrics.items()
    )
    return f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>"


_TARGET_KEYS = ("metric", "value", "threshold", "met")


def check_targets(targets: Any) -> list[dict[str, Any]]:
    """``targets`` as a list of dicts with metric, value, threshold, met (and optional goal
    ">=" or "<="); a clear error for anything else."""
    where = "write_report: targets"
    if isinstance(targets, Mapping) or not isinstance(targets, Sequence):
        raise ValueError(
            f"{where} must be a list of dicts such as {{'metric': 'accuracy', 'value': 0.985, "
            f"'threshold': 0.97, 'met': True}}. Received: {targets!r}"
        )
    for i, target in enumerate(targets):
        missing = [k for k in _TARGET_KEYS if not isinstance(target, Mapping) or k not in target]
        if missing:
            raise ValueError(
                f"{where}[{i}] lacks {missing[0]!r}: each target is a dict with metric, value, "
                f"threshold and met (and optionally goal '>=' or '<='). Received: {target!r}"
            )
        if target.get("goal", ">=") not in (">=", "<="):
            raise ValueError(
                f"{where}[{i}]: goal must be '>=' (higher is better) or '<=' (lower is "
                f"better). Received: goal={target['goal']!r}"
            )
    return [dict(t) for t in targets]


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))


def _goal(target: Mapping[str, Any]) -> str:
    """The target as text, e.g. ">= 0.97": its goal, by default "<=" for a loss or error
    (loss, mae, rmse, mse) and ">=" for a score."""
    threshold = target["threshold"]
    value = f"{threshold:g}" if isinstance(threshold, (int, float)) else str(threshold)
    lower = str(target["metric"]).removeprefix("val_") in LOWER_IS_BETTER
    return f"{target.get('goal', '<=' if lower else '>=')} {value}"


def _targets_table(targets: list[dict[str, Any]]) -> str:
    rows = []
    for t in targets:
        result = '<td class="met">met</td>' if t["met"] else '<td class="missed">MISSED</td>'
        rows.append(
            f"<tr><td>{html.escape(str(t['metric']))}</td>"
            f'<td class="num">{_number(t["value"])}</td>'
            f'<td class="num">{html.escape(_goal(t))}</td>'
            f"{result}</tr>"
        )
    head = "<tr><th>metric</th><th>test value</th><th>target</th><th>result</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _verdict(targets: list[dict[str, Any]]) -> str:
    """'all targets met (2 of 2)' or 'target missed: accuracy 0.9500 (target >= 0.97)'."""
    missed = [t for t in targets if not t["met"]]
    if not missed:
        return f"all targets met ({len(targets)} of {len(targets)})"
    details = "; ".join(f"{t['metric']} {_number(t['value'])} (target {_goal(t)})" for t in missed)
    return f"target{'s' * (len(missed) > 1)} missed: {details}"


def _named(draw: Callable[..., Any], class_names: Any) -> Any:
    """``draw(class_names=...)``, or ``draw()`` when the names do not fit the model (a wrong
    count): a picture without names beats a lost picture."""
    if class_names is None:
        return draw()
    try:
        return draw(class_names=class_names)
    except ValueError as e:
        if "class_names" not in str(e):
            raise
        return draw()


def build_report(
    *,
    title: str,
    model: Any,
    history: Any,
    input_shape: tuple[int, ...],
    test_metrics: dict[str, Any] | None = None,
    x: Any = None,
    y_true: Any = None,
    y_pred: Any = None,
    class_names: list[str] | None = None,
    image_shape: tuple[int, int] | None = None,
    config: dict[str, Any] | None = None,
    targets: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """The report as an HTML string.

    Args:
        title: the page's heading (e.g. the run's name).
        model: the trained model; history: its :class:`~sinapsi.train.History`.
        input_shape: one sample's shape, for the model summary (e.g. ``(64,)``).
        test_metrics: final metrics, e.g. ``{"loss": 0.07, "accuracy": 0.985}``.
        x: some inputs (e.g. the test set) for the activation histograms and, with 2 features,
            the per-neuron maps.
        y_true, y_pred: test labels and predicted labels, for a confusion matrix.
        class_names: the class names, for the confusion matrix, the output nodes of the
            network and the decision boundary's legend.
        image_shape: e.g. ``(8, 8)``: draw the first layer's weights as images.
        config: the settings that ran, shown as JSON.
        targets: thresholds the run had to reach, as dicts ``{"metric": "accuracy",
            "value": 0.985, "threshold": 0.97, "met": True}``, optionally with ``"goal"``:
            ">=" or "<=" (default "<=" for loss, mae, rmse and mse, ">=" otherwise). Drawn as
            a table with met / MISSED; the page's title and summary say "all targets met" or
            "target missed".

    A model with 2 inputs, given ``x`` and ``y_true``, also gets its decision boundary.
    """
    from .boundary import plot_decision_boundary
    from .curves import plot_history
    from .diagnostics import plot_confusion_matrix, plot_weights_image
    from .gradients import plot_activations, plot_gradient_flow
    from .network import plot_network

    checked = None if targets is None else check_targets(targets)
    page_title = title
    summary = model.summary(input_shape, print_fn=None)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">sinapsi report, {time.strftime("%Y-%m-%d %H:%M")}, '
        f"{len(history.epoch)} epochs</p>",
    ]
    if checked:
        verdict = _verdict(checked)
        page_title += " — " + verdict.split(":")[0].split(" (")[0]
        css = "met" if all(t["met"] for t in checked) else "missed"
        parts.append(f'<p class="verdict {css}">{html.escape(verdict)}</p>')
    if test_metrics:
        parts += ["<h2>Test metrics</h2>", _metrics_table(test_metrics)]
    if checked:
        parts += ["<h2>Targets</h2>", _targets_table(checked)]
    parts += ["<h2>Model</h2>", f"<pre>{html.escape(summary)}</pre>"]
    parts.append(
        _figure_section(
            "Training curves",
            lambda: plot_history(history),
            "The loss (cost function) over the epochs, on the training and validation sets; "
            "the marker is the best epoch.",
        )
    )

    def network() -> Any:
        layers = linear_layers(model)
        widest = max(layer.out_features for layer in layers)
        if x is not None and layers[0].in_features == 2 and widest <= 16:
            # 2 inputs: every neuron's output over the input plane (TensorFlow Playground)
            return _named(
                lambda **names: plot_network(
                    model, x, max_nodes=max(widest, 10), neuron_maps=True, **names
                ),
                class_names,
            )
        return _named(lambda **names: plot_network(model, x, **names), class_names)

    convnet = _is_convnet(model)
    if not convnet:  # a convnet's diagram would draw only its last Linear layers
        parts.append(
            _figure_section(
                "Network",
                network,
                "Nodes per layer; edges coloured by the sign of the weight, thicker for larger "
                "weights. For a model with two inputs, each node shows its neuron's output over "
                "the input plane.",
            )
        )
    if x is not None and y_true is not None and not convnet and _n_inputs(model) == 2:
        parts.append(
            _figure_section(
                "Decision boundary",
                lambda: _named(
                    lambda **names: plot_decision_boundary(
                        model, x, y_true, resolution=150, **names
                    ),
                    class_names,
                ),
                "What the model predicts at every point of the input plane, with the points "
                "given to the report (e.g. the test set) coloured by their true class.",
            )
        )
    parts.append(
        _figure_section(
            "Gradient flow",
            lambda: plot_gradient_flow(history),
            "Gradient norm per layer over the epochs: a layer far below the others is not "
            "learning (vanishing gradient); one far above is unstable (exploding).",
        )
    )
    if x is not None:
        parts.append(
            _figure_section(
                "Activations",
                lambda: plot_activations(model, x),
                "What each layer outputs on the test inputs: mass piled at the ends means "
                "saturated sigmoid/tanh units; a spike at 0 means dead ReLUs.",
            )
        )
    if y_true is not None and y_pred is not None:
        parts.append(
            _figure_section(
                "Confusion matrix",
                lambda: plot_confusion_matrix(y_true, y_pred, class_names=class_names),
                "Rows: true class; columns: predicted class.",
            )
        )
    if convnet:
        parts += _convnet_sections(model, x, class_names)
    elif image_shape is not None:
        parts.append(
            _figure_section(
                "First-layer weights",
                lambda: plot_weights_image(model, image_shape),
                "Each hidden unit's incoming weights, laid out like the input image.",
            )
        )
    if config:
        parts += [
            "<h2>Configuration</h2>",
            f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>",
        ]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(page_title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _is_convnet(model: Any) -> bool:
    from ..nn.conv import Conv2d

    return any(isinstance(m, Conv2d) for m in model.modules())


def _object_name(class_names: Any) -> str:
    """'digits' when the classes are named 0..9 (a digits run), else 'classes'."""
    names = [str(c) for c in class_names] if class_names is not None else []
    return "digits" if names and all(n.isdigit() and len(n) == 1 for n in names) else "classes"


def _convnet_sections(model: Any, x: Any, class_names: Any) -> list[str]:
    """A convnet's pictures: its first-layer filters and, given inputs ``x`` (as the model
    takes them), the feature maps of the first one, the hierarchy and a saliency map."""
    from .attribution import plot_saliency
    from .convnet import plot_feature_maps, plot_filters, plot_hierarchy

    sections = [
        _figure_section(
            "First-layer filters",
            lambda: plot_filters(model),
            "The kernels the first convolution slides over the image (blue > 0, orange < 0): "
            "after training they are edge, stroke and spot detectors.",
        )
    ]
    if x is None:
        return sections + ['<p class="note">Feature maps, hierarchy and saliency not drawn: '
                           "the report was given no inputs (x).</p>"]  # fmt: skip

    def first() -> Any:
        return x[:1] if len(x) else x

    sections.append(
        _figure_section(
            "Feature maps",
            lambda: plot_feature_maps(model, first()),
            "One test input and what each conv block (convolution, activation, pooling) "
            "makes of it: where each channel found its pattern.",
        )
    )
    sections.append(
        _figure_section(
            "Feature hierarchy",
            lambda: _named(
                lambda **names: plot_hierarchy(
                    model, x[:500], object_name=_object_name(class_names), **names
                ),
                class_names,
            ),
            "Layer by layer, left to right: the filters, the feature maps of one test input, "
            "and the input pattern that excites a few units of each layer most (found by "
            "gradient ascent on the input): edges, then strokes, then whole classes.",
        )
    )
    sections.append(
        _figure_section(
            "Saliency",
            lambda: _named(lambda **names: plot_saliency(model, first(), **names), class_names),
            "The pixels whose change would move the predicted class's score most: what the "
            "prediction looked at.",
        )
    )
    return sections


def _n_inputs(model: Any) -> int | None:
    try:
        return input_size(model)
    except ValueError:
        return None


def write_report(path: str | Path, **kwargs: Any) -> Path:
    """Build the report (see :func:`build_report`) and write it to ``path`` atomically."""
    from ..io import atomic_write

    text = build_report(**kwargs).encode("utf-8")
    return atomic_write(path, lambda f: f.write(text))
