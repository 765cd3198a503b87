"""Pictures of what the network is doing (matplotlib, imported only when something is drawn).

Every function returns the matplotlib Figure: show it in Jupyter, or save it with
``fig.savefig("name.png")`` (also .svg, .pdf). Works headless.

- The network: :func:`plot_network` (nodes, weights as coloured edges, biases, and for 2-input
  models the output of every neuron over the input plane, as in TensorFlow Playground).
- Training: :func:`plot_history` (loss and metrics over the epochs, several runs overlaid),
  :func:`plot_gradient_flow` (per-layer gradient norms: vanishing / exploding),
  :func:`plot_activations` (saturation and dead units).
- Results: :func:`plot_decision_boundary` (2-D classifiers), :func:`plot_confusion_matrix`,
  :func:`plot_weights_image` (first-layer weights as images), :func:`animate_training` (a GIF).
- Convnets: :func:`plot_filters` (first-layer kernels), :func:`plot_feature_maps` (what each
  conv block makes of one input), :func:`activation_maximization` and
  :func:`plot_activation_maximization` (the input a unit responds to most, by gradient
  ascent), :func:`saliency` and :func:`plot_saliency` (the pixels a prediction depends on),
  :func:`plot_hierarchy` (all of it side by side: edges -> strokes -> digits).
- Word vectors: :func:`plot_embeddings` (a 2-D PCA of chosen words, an analogy's parallelogram).
- :func:`write_report`: all of it in one self-contained HTML page.
- :func:`write_grid_report`: a grid's runs on one page (``sinapsi grid`` writes it): a ranking
  with paired differences against a baseline cell, learning curves per cell, gradient norms.
"""

from .animation import animate_training
from .attribution import (
    activation_maximization,
    plot_activation_maximization,
    plot_saliency,
    saliency,
    unit_activation,
)
from .boundary import plot_decision_boundary
from .convnet import plot_feature_maps, plot_filters, plot_hierarchy
from .curves import plot_history
from .diagnostics import plot_confusion_matrix, plot_weights_image
from .embeddings import plot_embeddings
from .gradients import gradient_flow_bands, plot_activations, plot_gradient_flow
from .grid_report import write_grid_report
from .network import plot_network
from .report import build_report, write_report

__all__ = [
    "plot_network", "plot_history", "plot_gradient_flow", "gradient_flow_bands",
    "plot_activations", "plot_decision_boundary", "plot_confusion_matrix", "plot_weights_image",
    "animate_training", "build_report", "write_report", "plot_embeddings",
    "plot_filters", "plot_feature_maps", "plot_hierarchy", "activation_maximization",
    "unit_activation", "plot_activation_maximization", "saliency", "plot_saliency",
    "write_grid_report",
]  # fmt: skip
