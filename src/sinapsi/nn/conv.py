"""Convolution layers: Conv2d and Conv1d, with PyTorch's arguments, defaults, initialization
and state_dict keys (``weight`` of shape (out, in/groups, *kernel), ``bias``)."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .module import Module

__all__ = ["Conv2d", "Conv1d"]


class Conv2d(Module):
    """``torch.nn.Conv2d``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        init: Any = "default",
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        raise NotImplementedError("Conv2d")

    def forward(self, x: Any) -> Tensor:
        raise NotImplementedError


class Conv1d(Module):
    """``torch.nn.Conv1d``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] | str = 0,
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        init: Any = "default",
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        raise NotImplementedError("Conv1d")

    def forward(self, x: Any) -> Tensor:
        raise NotImplementedError
