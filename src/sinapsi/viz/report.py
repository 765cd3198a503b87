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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._mpl import linear_layers, pyplot

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
"""


def figure_to_data_uri(fig: Any, dpi: int = 100) -> str:
    """PNG bytes of ``fig`` as a ``data:`` URI (and close the figure)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure_section(title: str, draw: Callable[[], Any], caption: str = "") -> str:
    try:
        uri = figure_to_data_uri(draw())
    except (ValueError, TypeError, KeyError) as e:
        return f'<h2>{html.escape(title)}</h2><p class="note">Not drawn: {html.escape(str(e))}</p>'
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
        class_names: names for the confusion matrix axes.
        image_shape: e.g. ``(8, 8)``: draw the first layer's weights as images.
        config: the settings that ran, shown as JSON.
    """
    from .curves import plot_history
    from .diagnostics import plot_confusion_matrix, plot_weights_image
    from .gradients import plot_activations, plot_gradient_flow
    from .network import plot_network

    summary = model.summary(input_shape, print_fn=None)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">sinapsi report, {time.strftime("%Y-%m-%d %H:%M")}, '
        f"{len(history.epoch)} epochs</p>",
    ]
    if test_metrics:
        parts += ["<h2>Test metrics</h2>", _metrics_table(test_metrics)]
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
            return plot_network(model, x, max_nodes=max(widest, 10), neuron_maps=True)
        return plot_network(model, x)

    parts.append(
        _figure_section(
            "Network",
            network,
            "Nodes per layer; edges coloured by the sign of the weight, thicker for larger "
            "weights. For a model with two inputs, each node shows its neuron's output over "
            "the input plane.",
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
    if image_shape is not None:
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
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(path: str | Path, **kwargs: Any) -> Path:
    """Build the report (see :func:`build_report`) and write it to ``path`` atomically."""
    from ..io import atomic_write

    text = build_report(**kwargs).encode("utf-8")
    return atomic_write(path, lambda f: f.write(text))
