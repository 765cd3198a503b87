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
