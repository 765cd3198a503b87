"""PyTorch twins of the sinapsi layers that ``torch.nn`` lacks, for :func:`to_torch`.

This module imports torch, so sinapsi imports it only when the bridge is called. The classes
are ordinary ``torch.nn.Module`` subclasses at module level, so a converted model can be saved
with ``torch.save`` and loaded back, and converted back with :func:`from_torch`.

>>> import torch
>>> norm = Normalization(2)
>>> _ = norm.load_state_dict({"mean": torch.tensor([1.0, 2.0]), "scale": torch.tensor([2.0, 4.0])})
>>> norm(torch.tensor([[3.0, 6.0]]))
tensor([[1., 1.]])
"""

from __future__ import annotations

import torch

__all__ = ["Normalization", "PointFeatures"]


class Normalization(torch.nn.Module):
    """``(x - mean) / max(scale, eps)`` over the last axis: the twin of
    :class:`sinapsi.nn.Normalization`, with the same buffers (``mean``, ``scale``, shape
    ``(num_features,)``) and the same ``state_dict`` keys. The buffers start as zeros until
    filled (by :func:`to_torch` or ``load_state_dict``); scale 0 means "no statistics yet", as
    on the sinapsi side."""

    def __init__(self, num_features: int, eps: float = 0.0, dtype: torch.dtype | None = None):
        super().__init__()
        self.num_features, self.eps = int(num_features), float(eps)
        self.register_buffer("mean", torch.zeros(num_features, dtype=dtype))
        self.register_buffer("scale", torch.zeros(num_features, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.scale.clamp_min(self.eps) if self.eps > 0 else self.scale
        return (x - self.mean) / scale

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}" + (f", eps={self.eps}" if self.eps else "")


class PointFeatures(torch.nn.Module):
    """The twin of :class:`sinapsi.nn.PointFeatures`: ``(n, 2)`` points ``(x1, x2)`` ->
    ``(n, k)`` columns named by ``features`` (``x1``, ``x2``, ``x1^2``, ``x2^2``, ``x1*x2``,
    ``sin(x1)``, ``sin(x2)``), in that order. No parameters or buffers."""

    def __init__(self, features: list[str] | tuple[str, ...]):
        super().__init__()
        from ..nn.features import _check_features

        self.features = _check_features(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from ..nn.features import _check_points

        _check_points(tuple(x.shape))
        x1, x2 = x[..., 0:1], x[..., 1:2]
        make = {
            "x1": lambda: x1,
            "x2": lambda: x2,
            "x1^2": lambda: x1 * x1,
            "x2^2": lambda: x2 * x2,
            "x1*x2": lambda: x1 * x2,
            "sin(x1)": lambda: torch.sin(x1),
            "sin(x2)": lambda: torch.sin(x2),
        }
        return torch.cat([make[name]() for name in self.features], dim=-1)

    def extra_repr(self) -> str:
        return f"features={list(self.features)!r}"
