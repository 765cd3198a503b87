"""Convolution ops, NCHW like PyTorch: conv2d and conv1d (from conv2d's code). Filled in by the
conv work; see the module docstring there for the layout and speed notes."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

__all__ = ["conv2d", "conv1d"]


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """``torch.nn.functional.conv2d``: x (N, C, H, W) or (C, H, W); weight (O, C/groups, kh, kw)."""
    raise NotImplementedError("conv2d")


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """``torch.nn.functional.conv1d``: x (N, C, L) or (C, L); weight (O, C/groups, k)."""
    raise NotImplementedError("conv1d")
