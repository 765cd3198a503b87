"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, with PyTorch's arguments.

Pooling summarizes each small window of a feature map by its maximum or mean: the map gets
smaller (cheaper layers after it) and a feature found one pixel away gives the same output
(a little translation invariance). The layers have no parameters; the attributes are
PyTorch's (``stride`` is the kernel size when not given), so models move between the two.
"""

from __future__ import annotations

import numbers
from typing import Any

from .. import ops
from ..ops.pool import adaptive_size, pool_arguments
from ..tensor import Tensor
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _plain(value: Any) -> Any:
    """An int stays an int; a list or tuple becomes a tuple (PyTorch keeps what it is given)."""
    return value if value is None or isinstance(value, numbers.Integral) else tuple(value)


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class _Pool(Module):
    """Shared input checks: a 3-D or 4-D input, errors naming the layer."""

    def _short(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size!r}, stride={self.stride!r})"

    def _run(self, op: Any, x: Any, **kwargs: Any) -> Tensor:
        shape = x.shape if hasattr(x, "shape") else None
        if shape is None or len(shape) not in (3, 4):
            raise ValueError(
                f"{self._short()} expects input of shape (N, C, H, W) or (C, H, W); got "
                f"{tuple(shape) if shape is not None else type(x).__name__}."
            )
        try:
            return op(x, **kwargs)
        except ValueError as e:  # the op's message with the layer's name instead of the op's
            message = str(e)
            raise ValueError(f"{self._short()}: {message.split(': ', 1)[-1]}") from None

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self.get_config())


class MaxPool2d(_Pool):
    """``torch.nn.MaxPool2d`` (no return_indices): the maximum of each window.

    Args:
        kernel_size: window size, an int or (kh, kw).
        stride: step between windows (default: kernel_size).
        padding: implicit -inf padding on each side, at most half the kernel.
        dilation: spacing between the window's elements.
        ceil_mode: round the output size up (a last partial window), as PyTorch.

    Shapes: (N, C, H, W) -> (N, C, Ho, Wo), or (C, H, W) -> (C, Ho, Wo).
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        pool_arguments("MaxPool2d", kernel_size, stride, padding, dilation)
        self.kernel_size = _plain(kernel_size)
        self.stride = self.kernel_size if stride is None else _plain(stride)
        self.padding, self.dilation = _plain(padding), _plain(dilation)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x: Any) -> Tensor:
        return self._run(
            ops.max_pool2d, x, kernel_size=self.kernel_size, stride=self.stride,
            padding=self.padding, dilation=self.dilation, ceil_mode=self.ceil_mode,
        )  # fmt: skip

    def get_config(self) -> dict[str, Any]:
        return {
            "kernel_size": _json(self.kernel_size),
            "stride": _json(self.stride),
            "padding": _json(self.padding),
            "dilation": _json(self.dilation),
            "ceil_mode": self.ceil_mode,
        }


class AvgPool2d(_Pool):
    """``torch.nn.AvgPool2d``: the mean of each window.

    Args:
        kernel_size, stride, padding, ceil_mode: as :class:`MaxPool2d` (zero padding).
        count_include_pad: divide by the window's size including the padding (True, PyTorch's
            default) or by the number of input values in it.
        divisor_override: divide every window's sum by this instead.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        pool_arguments("AvgPool2d", kernel_size, stride, padding, 1)
        if divisor_override is not None and (
            not isinstance(divisor_override, numbers.Integral)
            or isinstance(divisor_override, bool)
            or divisor_override <= 0
        ):
            raise ValueError(
                "AvgPool2d: divisor_override must be a positive int or None; got "
                f"divisor_override={divisor_override!r}."
            )
        self.kernel_size = _plain(kernel_size)
        self.stride = self.kernel_size if stride is None else _plain(stride)
        self.padding = _plain(padding)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = None if divisor_override is None else int(divisor_override)

    def forward(self, x: Any) -> Tensor:
        return self._run(
            ops.avg_pool2d, x, kernel_size=self.kernel_size, stride=self.stride,
            padding=self.padding, ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad, divisor_override=self.divisor_override,
        )  # fmt: skip

    def get_config(self) -> dict[str, Any]:
        return {
            "kernel_size": _json(self.kernel_size),
            "stride": _json(self.stride),
            "padding": _json(self.padding),
            "ceil_mode": self.ceil_mode,
            "count_include_pad": self.count_include_pad,
            "divisor_override": self.divisor_override,
        }


class AdaptiveAvgPool2d(_Pool):
    """``torch.nn.AdaptiveAvgPool2d``: average pooling to a fixed output size, whatever the
    input's (windows chosen by PyTorch's rule). ``AdaptiveAvgPool2d(1)`` is global average
    pooling: one number per channel.

    Args:
        output_size: an int, or (Ho, Wo) where None keeps that input size.
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        adaptive_size("AdaptiveAvgPool2d", output_size)
        self.output_size = _plain(output_size)

    def _short(self) -> str:
        return f"AdaptiveAvgPool2d(output_size={self.output_size!r})"

    def forward(self, x: Any) -> Tensor:
        return self._run(ops.adaptive_avg_pool2d, x, output_size=self.output_size)

    def get_config(self) -> dict[str, Any]:
        return {"output_size": _json(self.output_size)}
