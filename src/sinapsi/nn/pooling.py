"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, with PyTorch's arguments."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


class MaxPool2d(Module):
    """``torch.nn.MaxPool2d`` (no return_indices)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> None:
        super().__init__()
        raise NotImplementedError("MaxPool2d")

    def forward(self, x: Any) -> Tensor:
        raise NotImplementedError


class AvgPool2d(Module):
    """``torch.nn.AvgPool2d``."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ) -> None:
        super().__init__()
        raise NotImplementedError("AvgPool2d")

    def forward(self, x: Any) -> Tensor:
        raise NotImplementedError


class AdaptiveAvgPool2d(Module):
    """``torch.nn.AdaptiveAvgPool2d``."""

    def __init__(self, output_size) -> None:
        super().__init__()
        raise NotImplementedError("AdaptiveAvgPool2d")

    def forward(self, x: Any) -> Tensor:
        raise NotImplementedError
