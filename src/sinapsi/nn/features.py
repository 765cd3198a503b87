"""PointFeatures: the TensorFlow Playground's input features of 2-D points, as a layer.

The playground lets a network see more than the raw coordinates ``(x1, x2)``: their squares,
their product and their sines. Computing them inside the model (rather than in a preprocessing
step kept beside it) means a saved or exported model takes raw points, and the gradient flows
back to the points for saliency maps.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from .. import backend, ops
from ..autograd import make_result
from ..tensor import Tensor
from .module import Module

__all__ = ["POINT_FEATURES", "PointFeatures"]

POINT_FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
"""The feature names, in the TF Playground's order: X1, X2, X1², X2², X1X2, sin(X1), sin(X2)."""


def _check_points(shape: tuple[int, ...]) -> None:
    """Refuse anything but points ``(..., 2)``: the layer and its torch twin say it alike."""
    if len(shape) < 2 or shape[-1] != 2:
        raise ValueError(
            f"PointFeatures takes (n, 2) points (x1, x2); got shape {shape}. Pass the points' "
            "two coordinates as the last axis."
        )


def _sin(x: Tensor) -> Tensor:
    """``sin(x)``; its gradient is ``cos(x)``. (sinapsi.ops has no sin yet: the one user.)"""
    xp = backend.get_array_module(x.data)
    data = x.data
    y = xp.sin(data)
    if isinstance(y, backend.numpy.generic):  # a 0-d input: a 0-d array, refilled in place
        y = xp.asarray(y)

    def replay() -> None:  # for sinapsi.capture: the same ufunc into the same array
        xp.sin(data, out=y)

    return make_result(y, "sin", (x,), lambda g: (g * xp.cos(data),), replay)


def _spelled(name: Any) -> str:
    """A near miss (``X1X2``, ``x1**2``, ``x1²``, ``sin x1``) spelled as the names are."""
    text = str(name).lower().replace(" ", "").replace("**2", "^2").replace("\u00b2", "^2")
    return text.replace("sinx", "sin(x") + (")" if text.startswith("sinx") else "")


def _check_features(features: Any) -> tuple[str, ...]:
    choices = ", ".join(repr(c) for c in POINT_FEATURES)
    if isinstance(features, (str, bytes)) or not isinstance(features, Sequence):
        raise ValueError(
            f"PointFeatures: features must be a list of names among {{{choices}}}; got "
            f"{features!r:.80}. Write features=[{features!r:.40}] for one feature."
        )
    if not features:
        raise ValueError(
            f"PointFeatures: features must name at least one feature among {{{choices}}}; got "
            "an empty list."
        )
    seen: set[str] = set()
    for name in features:
        if not isinstance(name, str) or name not in POINT_FEATURES:
            close = difflib.get_close_matches(_spelled(name), POINT_FEATURES, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"PointFeatures: each feature must be a str among {{{choices}}}. Got {name!r} "
                f"instead.{hint}"
            )
        if name in seen:
            raise ValueError(
                f"PointFeatures: the feature {name!r} is listed twice in {list(features)!r}; "
                "list each feature once."
            )
        seen.add(name)
    return tuple(features)


class PointFeatures(Module):
    """The TF Playground's input features of 2-D points: ``(n, 2) -> (n, k)``.

    Each output column is one of :data:`POINT_FEATURES` computed from the point ``(x1, x2)``:
    ``x1``, ``x2``, ``x1^2``, ``x2^2``, ``x1*x2``, ``sin(x1)``, ``sin(x2)``, in the order given
    in ``features``. No parameters; built from differentiable ops, so gradients reach the
    points. Saved with the model (``sn.save``/``sn.load``), exported to ONNX, with a PyTorch
    twin in :mod:`sinapsi.interop.torch_layers`.

    Args:
        features: the names of the columns, each once, 1 to 7 of them.

    Shapes: input ``(n, 2)`` -> output ``(n, k)``; more leading axes are kept. A floating Tensor
    keeps its dtype; raw arrays and integer input take the default dtype.

    >>> import numpy as np
    >>> from sinapsi import nn
    >>> layer = nn.PointFeatures(["x1", "x1*x2", "x2^2"])
    >>> layer(np.array([[2.0, 3.0]])).data.tolist()
    [[2.0, 6.0, 9.0]]
    """

    def __init__(self, features: Sequence[str]) -> None:
        super().__init__()
        self.features = _check_features(features)

    @property
    def out_features(self) -> int:
        """k, the number of output columns."""
        return len(self.features)

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if not backend.is_floating(x.dtype):
            x = x.astype(backend.get_default_dtype())
        _check_points(tuple(x.shape))
        x1, x2 = x[..., 0:1], x[..., 1:2]
        make = {
            "x1": lambda: x1,
            "x2": lambda: x2,
            "x1^2": lambda: ops.mul(x1, x1),
            "x2^2": lambda: ops.mul(x2, x2),
            "x1*x2": lambda: ops.mul(x1, x2),
            "sin(x1)": lambda: _sin(x1),
            "sin(x2)": lambda: _sin(x2),
        }
        columns = [make[name]() for name in self.features]
        return columns[0] if len(columns) == 1 else ops.concatenate(columns, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {"features": list(self.features)}
