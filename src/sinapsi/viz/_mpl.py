"""matplotlib, imported lazily: pictures cost nothing until one is drawn."""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot``, with a clear message if matplotlib is missing.

    Works headless: with no display, matplotlib picks the Agg backend by itself, and in
    Jupyter figures show inline.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        raise ImportError(
            "sinapsi.viz needs matplotlib: pip install matplotlib (it is a dependency of "
            "sinapsi; reinstall with `pip install -e .` if it went missing)."
        ) from None
    return plt


def input_size(model: Any) -> int:
    """How many numbers a sample of the model's input holds: 2 for a model that starts with
    the Playground's ``PointFeatures`` (it takes the raw points and makes its features), else
    the first Linear layer's inputs."""
    from ..nn.features import PointFeatures

    for module in model.modules():
        if not list(module.children()):  # the first leaf
            if isinstance(module, PointFeatures):
                return 2
            break
    return linear_layers(model)[0].in_features


def linear_layers(model: Any) -> list[Any]:
    """The model's Linear layers in order; a clear error when there are none."""
    from ..nn.layers import Linear

    layers = [m for m in model.modules() if isinstance(m, Linear)]
    if not layers:
        raise ValueError(
            f"{type(model).__name__} has no Linear layer: there are no neurons with weights "
            "and biases to draw. Build the model from nn.Linear layers (e.g. nn.Sequential)."
        )
    return layers
