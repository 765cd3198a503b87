"""Convolution layers: Conv2d and Conv1d, with PyTorch's arguments, defaults, initialization
and state_dict keys (``weight`` of shape (out, in/groups, *kernel), ``bias``)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from .. import backend, ops
from .. import init as initializers  # `init` is also the layers' argument name
from .._errors import check_bool
from ..ops._util import int_tuple
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["Conv2d", "Conv1d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """The shared part of Conv1d and Conv2d: argument checks, PyTorch's initialization, the
    padding modes and the config. ``_n`` is the number of spatial axes."""

    _n = 2
    _axes = "H, W"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        init: str | Callable[..., Any] = "default",
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._n
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels),
                       ("groups", groups)):  # fmt: skip
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer. Received: {arg}={v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels={in_channels} and "
                f"out_channels={out_channels}. Choose a groups value that divides both."
            )
        bias = check_bool(name, "bias", bias)
        self.in_channels, self.out_channels, self.groups = (
            int(in_channels),
            int(out_channels),
            int(groups),
        )
        self.kernel_size = int_tuple(name, "kernel_size", kernel_size, n, 1)
        self.stride = int_tuple(name, "stride", stride, n, 1)
        self.dilation = int_tuple(name, "dilation", dilation, n, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: padding must be 'same', 'valid', an int or a tuple of {n} ints; "
                    f"got {padding!r}."
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' needs stride 1; got stride {self.stride}. Use an "
                    "explicit padding with strides > 1."
                )
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = int_tuple(name, "padding", padding, n, 0)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {', '.join(map(repr, _PADDING_MODES))}; "
                f"got {padding_mode!r}."
            )
        self.padding_mode = padding_mode
        self.init = init
        generator = backend.new_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(
            initializers.get(init)(shape, rng=generator, dtype=dtype), dtype=dtype
        )
        if bias:
            if init in ("default", "torch"):  # PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                bound = 1.0 / math.sqrt(initializers.compute_fans(shape)[0])
                b = initializers.uniform((self.out_channels,), -bound, bound, generator, dtype)
            else:
                b = initializers.zeros((self.out_channels,), dtype=dtype)
            self.bias = Parameter(b, dtype=dtype)
        else:
            self.bias = None

    def _pads(self) -> tuple[int, ...]:
        """The explicit (before, after) pads, last axis first (F.pad's order), for the
        non-zero padding modes; "same" puts the odd extra after, as PyTorch."""
        if self.padding == "valid":
            return (0,) * (2 * self._n)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        return tuple(p for pair in reversed(pairs) for p in pair)

    def _title(self) -> str:
        name, size = type(self).__name__, self.kernel_size
        return f"{name}({self.in_channels} -> {self.out_channels}, kernel_size={size})"

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x, dtype=self.weight.dtype)
        n = self._n
        if x.ndim not in (n + 1, n + 2) or x.shape[-n - 1] != self.in_channels:
            c = self.in_channels
            raise ValueError(
                f"{self._title()} expects input of shape (N, {c}, {self._axes}) or "
                f"({c}, {self._axes}); got {x.shape}."
            )
        conv = ops.conv2d if n == 2 else ops.conv1d
        padding: Any = self.padding
        if self.padding_mode != "zeros":
            x = ops.pad(x, self._pads(), mode=self.padding_mode)  # then a conv without padding
            padding = 0
        return conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            "dilation": list(self.dilation),
            "groups": self.groups,
            "bias": self.bias is not None,
            "padding_mode": self.padding_mode,
        }
        if isinstance(self.init, str) and self.init != "default":
            config["init"] = self.init
        return config

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._n:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


class Conv2d(_ConvNd):
    """``torch.nn.Conv2d``: a bank of ``out_channels`` learned filters slid over an image.

    Each output channel is a filter of shape (in_channels/groups, kh, kw) correlated with the
    input at every position (stride, padding, dilation as PyTorch; ``padding="same"`` keeps
    the size), plus a bias. Early filters learn edges and strokes; later ones combine them.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, padding, dilation: an int or a pair (a list is fine); padding may
            also be ``"same"`` or ``"valid"``.
        groups: split the channels into independent groups (``groups=in_channels``: depthwise).
        bias: whether to learn one bias per output channel.
        padding_mode: ``"zeros"`` (default), ``"reflect"``, ``"replicate"`` or ``"circular"``.
        init: ``"default"`` (PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in/groups
            * kh * kw, for weight and bias) or a name for :func:`sinapsi.init.get` (bias 0).
        rng: seed or ``numpy.random.Generator`` for the initial weights.
        dtype: parameter dtype (default: the global default, float32).

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, out_channels, Ho, Wo)``; ``weight`` is
    ``(out_channels, in_channels/groups, kh, kw)`` as in PyTorch.
    """

    _n = 2
    _axes = "H, W"

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
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, init, rng, dtype,
        )  # fmt: skip


class Conv1d(_ConvNd):
    """``torch.nn.Conv1d``: Conv2d's filters slid along one axis, input ``(N, C, L)`` or
    ``(C, L)``, weight ``(out_channels, in_channels/groups, k)``. Same arguments as
    :class:`Conv2d` with single ints (or 1-tuples)."""

    _n = 1
    _axes = "L"

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
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, init, rng, dtype,
        )  # fmt: skip
