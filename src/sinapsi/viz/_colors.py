"""The colours every sinapsi picture uses for signed values: TensorFlow Playground's.

Blue is positive, orange negative, white zero: for weights (network edges, weight images),
biases, neuron outputs, decision surfaces (class 1 blue, class 0 orange) and their colour bars
and legends. One convention everywhere, so a picture reads the same as the next one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["POSITIVE", "NEGATIVE", "NODE_EDGE", "diverging_cmap", "luminance"]

POSITIVE = "#0877bd"  # TensorFlow Playground's blue: positive weights, biases, outputs
NEGATIVE = "#f59322"  # and its orange: negative ones
NODE_EDGE = "#555555"


def diverging_cmap(strength: float = 1.0) -> Any:
    """Orange (negative) - white - blue (positive), the Playground's scale; ``strength`` < 1
    mixes the ends with white (lighter surfaces under points)."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    def light(color: str) -> tuple[float, ...]:
        return tuple(1 - strength * (1 - c) for c in to_rgb(color))

    return LinearSegmentedColormap.from_list(
        f"sinapsi_playground_{strength:g}", [light(NEGATIVE), (1, 1, 1), light(POSITIVE)]
    )


def luminance(rgb: Any) -> float:
    r, g, b = rgb[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
