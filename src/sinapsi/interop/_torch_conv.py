"""The convolutional layers in :func:`~sinapsi.interop.to_torch` and ``from_torch``.

===========================  =========================================================
sinapsi                      PyTorch
===========================  =========================================================
Conv2d, Conv1d               torch.nn.Conv2d, Conv1d (stride, padding, "same"/"valid",
                             dilation, groups, bias, padding_mode)
MaxPool2d                    torch.nn.MaxPool2d (return_indices=False only)
AvgPool2d                    torch.nn.AvgPool2d
AdaptiveAvgPool2d            torch.nn.AdaptiveAvgPool2d
BatchNorm2d                  torch.nn.BatchNorm2d (as BatchNorm1d)
Dropout2d(p)                 torch.nn.Dropout2d(p)
Unflatten(dim, size)         torch.nn.Unflatten(dim, unflattened_size)
===========================  =========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dropout2d,
    MaxPool2d,
    Module,
    Unflatten,
)
from . import torch_bridge as _bridge  # its array helpers, looked up when a layer is converted


def _plain(value: Any) -> Any:
    """A tuple/list of ints (or None: an adaptive size kept) as a tuple; an int, a str or None
    as it is."""
    if isinstance(value, (tuple, list)):
        return tuple(None if v is None else int(v) for v in value)
    return value


def _conv_args(m: Any) -> dict[str, Any]:
    return {
        "stride": _plain(m.stride),
        "padding": _plain(m.padding),
        "dilation": _plain(m.dilation),
        "groups": int(m.groups),
        "bias": m.bias is not None,
        "padding_mode": m.padding_mode,
    }


# ----------------------------------------------------------------------------- sinapsi -> torch


def _conv_to_torch(torch: Any, m: Conv2d | Conv1d) -> Any:
    kind = torch.nn.Conv2d if isinstance(m, Conv2d) else torch.nn.Conv1d
    layer = kind(
        m.in_channels,
        m.out_channels,
        _plain(m.kernel_size),
        dtype=getattr(torch, np.dtype(m.weight.dtype).name),  # float32 or float64
        **_conv_args(m),
    )
    layer.weight = _bridge._torch_param(torch, m.weight)
    if m.bias is not None:
        layer.bias = _bridge._torch_param(torch, m.bias)
    return layer


def _max_pool_to_torch(torch: Any, m: MaxPool2d) -> Any:
    return torch.nn.MaxPool2d(
        _plain(m.kernel_size),
        _plain(m.stride),
        _plain(m.padding),
        _plain(m.dilation),
        ceil_mode=bool(m.ceil_mode),
    )


def _avg_pool_to_torch(torch: Any, m: AvgPool2d) -> Any:
    return torch.nn.AvgPool2d(
        _plain(m.kernel_size),
        _plain(m.stride),
        _plain(m.padding),
        ceil_mode=bool(m.ceil_mode),
        count_include_pad=bool(m.count_include_pad),
        divisor_override=m.divisor_override,
    )


TO_TORCH: dict[type, Callable[[Any, Any], Any]] = {
    Conv2d: _conv_to_torch,
    Conv1d: _conv_to_torch,
    MaxPool2d: _max_pool_to_torch,
    AvgPool2d: _avg_pool_to_torch,
    AdaptiveAvgPool2d: lambda torch, m: torch.nn.AdaptiveAvgPool2d(_plain(m.output_size)),
    BatchNorm2d: lambda torch, m: _bridge._batch_norm_to_torch(torch, m, torch.nn.BatchNorm2d),
    Dropout2d: lambda torch, m: torch.nn.Dropout2d(m.p),
    Unflatten: lambda torch, m: torch.nn.Unflatten(m.dim, _plain(m.unflattened_size)),
}


# ----------------------------------------------------------------------------- torch -> sinapsi


def _refuse(m: Any, option: str, fix: str) -> ValueError:
    return ValueError(
        f"from_torch: torch.nn.{type(m).__name__} with {option} has no sinapsi twin; {fix}."
    )


def _conv_from_torch(m: Any, rng: Any) -> Module:
    kind = Conv2d if type(m).__name__ == "Conv2d" else Conv1d
    weight = _bridge._sinapsi_param(m.weight)
    layer = kind(
        m.in_channels,
        m.out_channels,
        _plain(m.kernel_size),
        dtype=weight.dtype,
        **_conv_args(m),
    )
    layer.weight = weight
    if m.bias is not None:
        layer.bias = _bridge._sinapsi_param(m.bias)
    return layer


def _max_pool_from_torch(m: Any, rng: Any) -> MaxPool2d:
    if m.return_indices:
        raise _refuse(m, "return_indices=True", "build it with return_indices=False (the default)")
    return MaxPool2d(
        _plain(m.kernel_size),
        _plain(m.stride),
        _plain(m.padding),
        _plain(m.dilation),
        ceil_mode=bool(m.ceil_mode),
    )


def _avg_pool_from_torch(m: Any, rng: Any) -> AvgPool2d:
    return AvgPool2d(
        _plain(m.kernel_size),
        _plain(m.stride),
        _plain(m.padding),
        ceil_mode=bool(m.ceil_mode),
        count_include_pad=bool(m.count_include_pad),
        divisor_override=m.divisor_override,
    )


def from_torch_table(torch: Any) -> dict[type, Callable[[Any, Any], Module]]:
    tnn = torch.nn
    return {
        tnn.Conv2d: _conv_from_torch,
        tnn.Conv1d: _conv_from_torch,
        tnn.MaxPool2d: _max_pool_from_torch,
        tnn.AvgPool2d: _avg_pool_from_torch,
        tnn.AdaptiveAvgPool2d: lambda m, rng: AdaptiveAvgPool2d(_plain(m.output_size)),
        tnn.BatchNorm2d: lambda m, rng: _bridge._batch_norm_from_torch(m, rng, BatchNorm2d),
        tnn.Dropout2d: lambda m, rng: Dropout2d(m.p, rng=rng),
        tnn.Unflatten: lambda m, rng: Unflatten(int(m.dim), _plain(m.unflattened_size)),
    }
