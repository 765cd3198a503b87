"""ONNX converters of the convolutional layers, used by :func:`sinapsi.interop.export_onnx`.

=====================  ======================================================================
sinapsi                ONNX
=====================  ======================================================================
Conv2d, Conv1d         ``Conv`` (``pads``, ``strides``, ``dilations``, ``group``); padding
                       ``"same"`` becomes explicit pads (the odd one at the end, as PyTorch);
                       padding_mode ``reflect`` / ``replicate`` a ``Pad`` (``reflect`` /
                       ``edge``) in front, ``circular`` a ``Pad`` ``wrap`` (opset >= 19)
MaxPool2d              ``MaxPool`` (``dilations``)
AvgPool2d              ``AveragePool`` (``count_include_pad``); ``divisor_override`` is refused
AdaptiveAvgPool2d      ``GlobalAveragePool`` for output size 1; ``AveragePool`` (kernel = stride =
                       input / output) when the output size divides the input's; refused else
Unflatten              ``Reshape``
=====================  ======================================================================

``ceil_mode``: the ONNX specification and onnxruntime disagree on the last window of a ceil-mode
pooling (onnxruntime follows PyTorch: a window that would start in the right padding is
dropped). The export sidesteps the question: it computes PyTorch's output size and writes the
windows that ceil mode adds as extra end padding with ``ceil_mode=0``, which every runtime reads
the same way (for ``AvgPool2d(count_include_pad=True)`` the padding PyTorch counts becomes a
zero ``Pad`` in front, so the extra padding is not counted). Only a dilated MaxPool2d can need
padding of a whole kernel, which onnxruntime refuses: there a ``Pad`` with -inf comes first.

onnxruntime's CPU provider has no float64 ``Conv``, ``AveragePool`` or ``GlobalAveragePool``:
a float64 convnet exports and passes the checker, and runs in onnxruntime with
``dtype="float32"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn import AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, MaxPool2d, Unflatten

_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _show(shape: tuple) -> str:
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def _tuple(value: Any, n: int) -> tuple[int, ...]:
    """An int or a sequence of ints as ``n`` ints (PyTorch's ``_pair`` / ``_single``)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    return values * n if len(values) == 1 else values


def _layer_name(layer: Any) -> str:
    if isinstance(layer, (Conv1d, Conv2d)):
        kernel = _tuple(layer.kernel_size, 2 if isinstance(layer, Conv2d) else 1)
        return (
            f"{type(layer).__name__}({layer.in_channels} -> {layer.out_channels}, "
            f"kernel_size={kernel})"
        )
    return repr(layer).replace("\n", " ")


def _too_small(path: str, layer: Any, shape: tuple, out: Sequence[int]) -> ValueError:
    return ValueError(
        f"export_onnx: layer {path!r}, {_layer_name(layer)}, receives inputs of shape "
        f"{_show(shape)}, too small for its kernel, stride and padding (the output would have "
        f"spatial size {tuple(out)}). Check input_shape and the layers before it."
    )


def _conv(b: Any, path: str, layer: Any, x: str, shape: tuple, opset: int):
    n = 2 if isinstance(layer, Conv2d) else 1
    c_in, c_out = layer.in_channels, layer.out_channels
    if len(shape) != n + 2 or shape[1] != c_in:
        expected = "(batch, " + str(c_in) + (", H, W)" if n == 2 else ", L)")
        raise ValueError(
            f"export_onnx: layer {path!r}, {_layer_name(layer)}, takes inputs of shape "
            f"{expected} but receives {_show(shape)} here. Check input_shape (one sample's "
            "shape, without the batch axis, e.g. (1, 28, 28)) and the layers before it."
        )
    kernel, stride = _tuple(layer.kernel_size, n), _tuple(layer.stride, n)
    dilation, spatial = _tuple(layer.dilation, n), shape[2:]
    if isinstance(layer.padding, str):
        if layer.padding == "valid":
            begin = end = (0,) * n
        else:  # "same": the total padding split as PyTorch does, the odd one at the end
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            begin = tuple(t // 2 for t in total)
            end = tuple(t - t // 2 for t in total)
    else:
        begin = end = _tuple(layer.padding, n)
    mode = getattr(layer, "padding_mode", "zeros")
    if mode != "zeros" and any(begin + end):
        if mode == "circular" and opset < 19:
            raise ValueError(
                f"export_onnx: layer {path!r}, {_layer_name(layer)}, pads in mode 'circular', "
                f"which ONNX's Pad has from opset 19 on (mode 'wrap'); received opset={opset}. "
                "Pass opset=19 or later."
            )
        pads = b.tensor(f"{path}.pads", [0, 0, *begin, 0, 0, *end], np.int64)
        x = b.op("Pad", [x, pads], path, mode=_PAD_MODES[mode])
        spatial = tuple(s + p + q for s, p, q in zip(spatial, begin, end))
        begin = end = (0,) * n
    out = [
        (size + p + q - d * (k - 1) - 1) // s + 1
        for size, p, q, d, k, s in zip(spatial, begin, end, dilation, kernel, stride)
    ]
    if min(out) <= 0:
        raise _too_small(path, layer, shape, out)
    inputs = [x, b.tensor(f"{path}.weight", layer.weight.data)]
    if layer.bias is not None:
        inputs.append(b.tensor(f"{path}.bias", layer.bias.data))
    y = b.op(
        "Conv",
        inputs,
        path,
        kernel_shape=list(kernel),
        strides=list(stride),
        dilations=list(dilation),
        pads=[*begin, *end],
        group=int(layer.groups),
    )
    return y, (shape[0], c_out, *out)


def _pool_size(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> tuple[int, int]:
    """PyTorch's pooled size of one axis and the extra end padding that gives it without
    ceil mode (0 when floor and ceil agree)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:  # the last window would start in the right padding
        out -= 1
    return out, max(0, (out - 1) * s - span)


def _check_4d(path: str, layer: Any, shape: tuple) -> None:
    if len(shape) != 4:
        raise ValueError(
            f"export_onnx: layer {path!r}, {_layer_name(layer)}, takes inputs of shape "
            f"(batch, C, H, W) but receives {_show(shape)} here. Check input_shape (e.g. "
            "(1, 28, 28)) and the layers before it."
        )


def _pool(b: Any, path: str, layer: Any, x: str, shape: tuple, opset: int):
    _check_4d(path, layer, shape)
    is_max = isinstance(layer, MaxPool2d)
    if not is_max and layer.divisor_override is not None:
        raise ValueError(
            f"export_onnx: layer {path!r}, {_layer_name(layer)}, divides by "
            f"divisor_override={layer.divisor_override}, which ONNX's AveragePool cannot "
            "express. Export a model built with divisor_override=None."
        )
    kernel = _tuple(layer.kernel_size, 2)
    stride = kernel if layer.stride is None else _tuple(layer.stride, 2)
    pad = _tuple(layer.padding, 2)
    dilation = _tuple(layer.dilation, 2) if is_max else (1, 1)
    ceil = bool(layer.ceil_mode)
    sizes = [_pool_size(*a, ceil) for a in zip(shape[2:], kernel, stride, pad, dilation)]
    out, extra = [o for o, _ in sizes], [e for _, e in sizes]
    if min(out) <= 0:
        raise _too_small(path, layer, shape, out)
    include_pad = not is_max and bool(layer.count_include_pad) and any(pad)
    attributes: dict[str, Any] = {"kernel_shape": list(kernel), "strides": list(stride)}
    if is_max:
        attributes["dilations"] = list(dilation)
    if not any(extra):  # floor and ceil agree: plain padding
        begin, end = pad, pad
    elif include_pad:  # the padding PyTorch counts becomes real zeros; the extra is not counted
        pads = b.tensor(f"{path}.pads", [0, 0, *pad, 0, 0, *pad], np.int64)
        x = b.op("Pad", [x, pads], path, mode="constant")
        begin, end, include_pad = (0, 0), tuple(extra), False  # extra < kernel: no dilation
    elif all(p + e < k for p, e, k in zip(pad, extra, kernel)):
        begin, end = pad, tuple(p + e for p, e in zip(pad, extra))
    else:  # dilated max pooling: onnxruntime refuses a pad of a whole kernel; pad with -inf
        end = [p + e for p, e in zip(pad, extra)]
        pads = b.tensor(f"{path}.pads", [0, 0, *pad, 0, 0, *end], np.int64)
        x = b.op("Pad", [x, pads, b.scalar(-math.inf)], path, mode="constant")
        begin = end = (0, 0)
    attributes["pads"] = [*begin, *end]
    if not is_max:
        attributes["count_include_pad"] = int(include_pad)
    y = b.op("MaxPool" if is_max else "AveragePool", [x], path, **attributes)
    return y, (shape[0], shape[1], *out)


def _adaptive_avg_pool(b: Any, path: str, layer: Any, x: str, shape: tuple, opset: int):
    _check_4d(path, layer, shape)
    size = layer.output_size
    wanted = (size, size) if size is None or isinstance(size, (int, np.integer)) else tuple(size)
    out = tuple(n if o is None else int(o) for n, o in zip(shape[2:], wanted))
    if out == (1, 1):
        return b.op("GlobalAveragePool", [x], path), (shape[0], shape[1], 1, 1)
    for n, o in zip(shape[2:], out):
        if n % o:
            raise ValueError(
                f"export_onnx: layer {path!r}, {_layer_name(layer)}, receives inputs of shape "
                f"{_show(shape)}; ONNX has no adaptive pooling, so the export needs an output "
                f"size that divides the input's ({n} is not a multiple of {o}). Use "
                "output_size=1 (global average pooling), a size that divides it, or another "
                "input_shape."
            )
    kernel = [n // o for n, o in zip(shape[2:], out)]
    y = b.op("AveragePool", [x], path, kernel_shape=kernel, strides=kernel)
    return y, (shape[0], shape[1], *out)


def _unflatten(b: Any, path: str, layer: Any, x: str, shape: tuple, opset: int):
    rank, sizes = len(shape), [int(s) for s in layer.unflattened_size]
    dim = layer.dim + rank if layer.dim < 0 else layer.dim
    if not 0 <= dim < rank or shape[dim] is None:
        raise ValueError(
            f"export_onnx: layer {path!r}, {_layer_name(layer)}, splits axis {layer.dim} of "
            f"inputs of shape {_show(shape)}, which is "
            + ("the batch axis." if 0 <= dim < rank else "not an axis.")
            + " Unflatten an axis after the batch axis, e.g. Unflatten(1, (1, 28, 28))."
        )
    if sizes.count(-1) == 1:
        known = math.prod(s for s in sizes if s != -1)
        sizes[sizes.index(-1)] = shape[dim] // known if known and shape[dim] % known == 0 else 0
    if min(sizes) <= 0 or math.prod(sizes) != shape[dim]:
        raise ValueError(
            f"export_onnx: layer {path!r}, {_layer_name(layer)}, cannot split axis {dim} of size "
            f"{shape[dim]} (inputs of shape {_show(shape)}) into {tuple(layer.unflattened_size)}. "
            "Check input_shape and the layers before it."
        )
    out_shape = shape[:dim] + tuple(sizes) + shape[dim + 1 :]
    # Reshape: 0 copies the (batch) axis at the same position
    target = [0 if d is None else d for d in out_shape]
    target_name = b.tensor(f"{path}.shape", np.asarray(target), dtype=np.int64)
    return b.op("Reshape", [x, target_name], path), out_shape


CONV_CONVERTERS: dict[type, Any] = {
    Conv2d: _conv,
    Conv1d: _conv,
    MaxPool2d: _pool,
    AvgPool2d: _pool,
    AdaptiveAvgPool2d: _adaptive_avg_pool,
    Unflatten: _unflatten,
}
