"""Pooling ops, NCHW like PyTorch: max_pool2d, avg_pool2d, adaptive_avg_pool2d."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


def max_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """``torch.nn.functional.max_pool2d`` (no return_indices)."""
    raise NotImplementedError("max_pool2d")


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """``torch.nn.functional.avg_pool2d``."""
    raise NotImplementedError("avg_pool2d")


def adaptive_avg_pool2d(x: Any, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """``torch.nn.functional.adaptive_avg_pool2d``."""
    raise NotImplementedError("adaptive_avg_pool2d")
