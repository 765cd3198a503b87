"""Export a sinapsi ``Sequential`` network to an ONNX file, for onnxruntime, Netron and others.

The exported graph computes what the model computes in **eval mode**: BatchNorm1d and
BatchNorm2d normalize with their running statistics and Dropout and Dropout2d are left out.
The model itself is not changed (its train/eval mode included).

How layers map to ONNX operators:

=====================  ======================================================================
sinapsi                ONNX
=====================  ======================================================================
Linear                 ``Gemm`` (``transB=1``) on 2-D inputs; ``MatMul`` + ``Add`` otherwise
BatchNorm1d/2d         ``BatchNormalization`` with the running mean and variance
Conv2d, Conv1d, ...    ``Conv``, ``MaxPool``, ``AveragePool``, ``GlobalAveragePool``, ``Pad``,
                       ``Reshape``: see ``sinapsi.interop._onnx_conv`` for the convolutional
                       layers (MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Unflatten too)
Normalization          ``Sub`` its ``mean``, then ``Div`` by its scale (``max(scale, eps)``),
                       as sinapsi computes it: the file takes raw inputs
PointFeatures          ``Gather`` x1 and x2, then ``Mul`` / ``Sin`` per feature, ``Concat``
Sigmoid, Tanh, ReLU    ``Sigmoid``, ``Tanh``, ``Relu``
LeakyReLU, ELU         ``LeakyRelu`` / ``Elu`` with ``alpha`` (float64: composed, see below)
GELU                   opset >= 20: ``Gelu`` with ``approximate``; below: composed exactly as
                       sinapsi computes it, ``0.5 x (1 + erf(x / sqrt 2))`` with ``Erf``, or the
                       tanh formula with ``Mul``/``Tanh``
Softplus               ``where(beta x > threshold, x, log(1 + exp(beta x)) / beta)`` from
                       ``Mul``/``Greater``/``Where``/``Exp``/``Add``/``Log`` (ONNX's ``Softplus``
                       has no beta or threshold)
Softmax, LogSoftmax    ``Softmax`` / ``LogSoftmax`` with the same ``axis``
Flatten                ``Flatten`` (axis 1 to the end) or ``Reshape``
Dropout(2d), Identity  nothing (identity at inference)
=====================  ======================================================================

Dtype: by default the graph (weights, input and output) has the model's dtype, so a float64
model stays float64 and loses no precision; ``dtype="float32"`` converts a float64 model's
weights. ONNX stores operator attributes (``LeakyRelu``'s and ``Elu``'s ``alpha``) as float32
and onnxruntime's CPU provider has no float64 ``Elu``, so in float64 those two are composed from
``Greater``/``Where``/``Exp``/``Mul`` with float64 constants. onnxruntime has no float64 ``Erf``
either, nor float64 ``Conv``, ``AveragePool`` or ``GlobalAveragePool``: a float64 model with
exact GELU or convolutions exports and passes the checker but needs ``dtype="float32"`` to run
there.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from ..io import atomic_write
from ..nn import (
    ELU,
    GELU,
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Module,
    Normalization,
    PointFeatures,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from ._onnx_conv import CONV_CONVERTERS

__all__ = ["export_onnx"]

MIN_OPSET = 13  # Softmax/LogSoftmax take a true per-axis `axis` from opset 13 on
_DTYPES = ("float32", "float64")

Shape = tuple  # one entry per axis: an int, or None for the symbolic batch size


def export_onnx(
    model: Module,
    path: str | os.PathLike[str],
    input_shape: int | Iterable[int],
    *,
    opset: int = 17,
    input_name: str = "input",
    output_name: str = "output",
    dynamic_batch: bool = True,
    dtype: Any = None,
) -> Path:
    """Write ``model`` (a ``Sequential`` of supported layers) as an ONNX file at ``path``.

    Args:
        model: an ``nn.Sequential`` (nested ones are flattened) or a single supported layer.
            Supported: Linear, Conv2d, Conv1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (output
            size 1 or one that divides the input's), BatchNorm1d and BatchNorm2d (with running
            statistics), Normalization (adapted), PointFeatures, Dropout, Dropout2d, Identity,
            Flatten, Unflatten, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, Softplus, Softmax,
            LogSoftmax.
        path: the file to write; written atomically (a temporary file beside it, then a
            rename), so a failed export never leaves a half-written file.
        input_shape: one sample's shape, without the batch axis (``(784,)`` or ``784``;
            ``(1, 28, 28)``, channels first, for a convnet).
        opset: the ONNX opset (13 or later; 20 or later exports GELU as one ``Gelu`` node).
        input_name, output_name: the graph's input and output names.
        dynamic_batch: give the batch axis a symbolic size ``"batch"``; with False it is 1.
        dtype: ``"float32"`` or ``"float64"``; default: the model's parameter dtype.

    Returns:
        The path written, as a ``pathlib.Path``.

    The graph computes the model's eval-mode output; see the module docstring for the operator
    used for each layer and the dtype rules. Needs the ``onnx`` package.

    >>> import tempfile, pathlib
    >>> from sinapsi import nn
    >>> model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 1, rng=1))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = export_onnx(model, pathlib.Path(tmp) / "xor.onnx", input_shape=(2,))
    ...     written.name, written.stat().st_size > 0
    ('xor.onnx', True)

    A convnet takes one image's shape, channels first:

    >>> convnet = nn.Sequential(
    ...     nn.Conv2d(1, 4, 3, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    ...     nn.Linear(4 * 3 * 3, 10, rng=1))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = export_onnx(convnet, pathlib.Path(tmp) / "digits.onnx", input_shape=(1, 8, 8))
    """
    onnx = _import_onnx()
    _check_opset(onnx, opset)
    sample_shape = _check_input_shape(input_shape)
    _check_names(input_name, output_name)
    layers = _layers(model)
    np_dtype = _export_dtype(model, dtype)

    builder = _Builder(onnx, np_dtype)
    input_dims = ((None if dynamic_batch else 1),) + sample_shape
    x, shape = input_name, input_dims
    for layer_path, layer in layers:
        x, shape = _CONVERTERS[type(layer)](builder, layer_path, layer, x, shape, opset)
    builder.set_output(x, input_name, output_name)

    helper = onnx.helper
    elem_type = helper.np_dtype_to_tensor_dtype(np_dtype)
    graph = helper.make_graph(
        builder.nodes,
        "sinapsi_model",
        [helper.make_tensor_value_info(input_name, elem_type, _dims(input_dims))],
        [helper.make_tensor_value_info(output_name, elem_type, _dims(shape))],
        initializer=builder.initializers,
    )
    opset_ids = [helper.make_opsetid("", opset)]
    proto = helper.make_model(
        graph,
        opset_imports=opset_ids,
        ir_version=helper.find_min_ir_version_for(opset_ids),
        producer_name="sinapsi",
        producer_version=_version(),
        doc_string=f"Exported by sinapsi.interop.export_onnx from:\n{model!r}",
    )
    onnx.checker.check_model(proto, full_check=True)
    payload = proto.SerializeToString()
    return atomic_write(path, lambda f: f.write(payload))


# ----------------------------------------------------------------------------- checks


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            "export_onnx needs the 'onnx' package, which is not installed. Install it with: "
            "pip install onnx (or pip install 'sinapsi[onnx]', which also installs onnxruntime "
            "to run the exported file)."
        ) from error
    return onnx


def _version() -> str:
    from .. import __version__

    return __version__


def _check_opset(onnx: Any, opset: Any) -> None:
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"export_onnx: opset must be an integer from {MIN_OPSET} to {newest} (the newest "
            f"that onnx {onnx.__version__} knows). Received: opset={opset!r}. The default, 17, "
            "runs on any recent onnxruntime."
        )


def _check_input_shape(input_shape: Any) -> tuple[int, ...]:
    dims = (input_shape,) if isinstance(input_shape, (int, np.integer)) else input_shape
    try:
        dims = tuple(dims)
    except TypeError:
        dims = None
    if dims is None or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in dims
    ):
        raise ValueError(
            "export_onnx: input_shape must be one sample's shape without the batch axis, as "
            f"positive integers, such as (784,). Received: input_shape={input_shape!r}"
        )
    return tuple(int(d) for d in dims)


def _check_names(input_name: Any, output_name: Any) -> None:
    for what, name in (("input_name", input_name), ("output_name", output_name)):
        if not isinstance(name, str) or not name:
            raise ValueError(f"export_onnx: {what} must be a non-empty str. Received: {name!r}")
    if input_name == output_name:
        raise ValueError(
            f"export_onnx: input_name and output_name must differ; both are {input_name!r}."
        )


def _layers(model: Any) -> list[tuple[str, Module]]:
    """The leaf layers in order, with dotted paths, nested Sequentials flattened; every
    unsupported layer is reported in one error."""
    if not isinstance(model, Module):
        raise TypeError(
            "export_onnx needs a sinapsi nn.Module (an nn.Sequential of supported layers). "
            f"Received: an object of type {type(model).__name__}."
        )
    found: list[tuple[str, Module]] = []
    unsupported: list[str] = []

    def visit(path: str, module: Module) -> None:
        if type(module) is Sequential:
            for name, child in module._modules.items():
                visit(f"{path}.{name}" if path else name, child)
        elif type(module) in _CONVERTERS:
            found.append((path or type(module).__name__, module))
        else:
            unsupported.append(f"{type(module).__name__} (at {path or 'the top'!r})")

    visit("", model)
    if unsupported:
        raise TypeError(
            f"export_onnx cannot export {', '.join(unsupported)}. Supported layers: "
            f"{SUPPORTED}, inside nn.Sequential containers (nested ones are fine). Rebuild the "
            "model from supported layers, or export the supported part."
        )
    return found


def _export_dtype(model: Module, dtype: Any) -> np.dtype:
    if dtype is not None:
        try:
            resolved = np.dtype(dtype)
        except TypeError:
            resolved = None
        if resolved is None or resolved.name not in _DTYPES:
            raise ValueError(
                "export_onnx: dtype must be 'float32', 'float64' or None (the model's dtype). "
                f"Received: dtype={dtype!r}"
            )
        return resolved
    found = {np.dtype(p.dtype).name for p in model.parameters()}
    found |= {
        np.dtype(b.dtype).name
        for _, b in model.named_buffers()
        if b is not None and backend.is_floating(b.dtype)
    }
    if not found:
        return np.dtype(backend.get_default_dtype())
    if len(found) > 1:
        raise ValueError(
            f"export_onnx: the model mixes dtypes {sorted(found)}. Convert it first with "
            "model.astype('float32'), or pass dtype='float32' (or 'float64')."
        )
    (name,) = found
    if name not in _DTYPES:
        raise ValueError(
            f"export_onnx exports float32 and float64 models; this one is {name}. Pass "
            "dtype='float32' to convert its weights."
        )
    return np.dtype(name)


# ----------------------------------------------------------------------------- graph building


def _dims(shape: Shape) -> list[Any]:
    return ["batch" if d is None else d for d in shape]


def _show(shape: Shape) -> str:
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


class _Builder:
    """Collects nodes and initializers; every tensor name is unique and readable: weights are
    named by their state_dict key (``0.weight``), node outputs ``<layer path>/<Op>_<k>``."""

    def __init__(self, onnx: Any, dtype: np.dtype) -> None:
        self._helper, self._numpy_helper = onnx.helper, onnx.numpy_helper
        self.dtype = dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()

    def tensor(self, name: str, value: Any, dtype: Any = None) -> str:
        array = np.ascontiguousarray(backend.to_numpy(value), dtype=dtype or self.dtype)
        self.initializers.append(self._numpy_helper.from_array(array, name))
        self._names.add(name)
        return name

    def scalar(self, value: float) -> str:
        """A 0-d constant in the graph's dtype (shared by every node that uses the value)."""
        name = f"const({float(value)!r})"
        if name not in self._names:
            self.tensor(name, np.asarray(value))
        return name

    def op(self, op_type: str, inputs: list[str], path: str, **attributes: Any) -> str:
        name = f"{path}/{op_type}_{len(self.nodes)}"
        node = self._helper.make_node(op_type, inputs, [name], name=name, **attributes)
        self.nodes.append(node)
        self._names.add(name)
        return name

    def set_output(self, x: str, input_name: str, output_name: str) -> None:
        """Name the final value ``output_name`` (an Identity node when no layer made a node)."""
        for name in (input_name, output_name):
            if name in self._names:
                raise ValueError(
                    f"export_onnx: the name {name!r} is already used inside the graph; choose "
                    "another input_name or output_name."
                )
        if x == input_name:
            self.nodes.append(
                self._helper.make_node("Identity", [x], [output_name], name="output/Identity")
            )
            return
        for node in self.nodes:
            for field in (node.input, node.output):
                for i, name in enumerate(field):
                    if name == x:
                        field[i] = output_name


Converter = Callable[[_Builder, str, Any, str, Shape, int], tuple[str, Shape]]


def _linear(b: _Builder, path: str, layer: Linear, x: str, shape: Shape, opset: int):
    n_in, n_out = layer.in_features, layer.out_features
    if len(shape) < 2 or shape[-1] != n_in:
        raise ValueError(
            f"export_onnx: layer {path!r}, Linear({n_in} -> {n_out}), takes inputs of shape "
            f"(batch, ..., {n_in}) but receives {_show(shape)} here. Check input_shape (one "
            "sample's shape, without the batch axis) and the layers before it."
        )
    out_shape = shape[:-1] + (n_out,)
    bias = [] if layer.bias is None else [b.tensor(f"{path}.bias", layer.bias.data)]
    if len(shape) == 2:
        weight = b.tensor(f"{path}.weight", layer.weight.data)
        return b.op("Gemm", [x, weight, *bias], path, transB=1), out_shape
    weight_t = b.tensor(f"{path}.weight_transposed", backend.to_numpy(layer.weight.data).T)
    y = b.op("MatMul", [x, weight_t], path)
    return (b.op("Add", [y, *bias], path) if bias else y), out_shape


def _batch_norm(b: _Builder, path: str, layer: BatchNorm1d, x: str, shape: Shape, opset: int):
    c, name = layer.num_features, type(layer).__name__
    if layer.running_mean is None:
        raise ValueError(
            f"export_onnx: layer {path!r}, {name}({c}), has no running statistics "
            "(track_running_stats=False), so in eval mode it normalizes each batch by its own "
            "statistics, which the export does not support. Build it with "
            "track_running_stats=True and train it."
        )
    four_d = isinstance(layer, BatchNorm2d)
    if len(shape) not in ((4,) if four_d else (2, 3)) or shape[1] != c:
        expected = f"(batch, {c}, H, W)" if four_d else f"(batch, {c}) or (batch, {c}, L)"
        raise ValueError(
            f"export_onnx: layer {path!r}, {name}({c}), takes inputs of shape {expected} but "
            f"receives {_show(shape)} here. Check input_shape."
        )
    scale = layer.weight.data if layer.affine else np.ones(c)
    shift = layer.bias.data if layer.affine else np.zeros(c)
    inputs = [
        x,
        b.tensor(f"{path}.weight", scale),
        b.tensor(f"{path}.bias", shift),
        b.tensor(f"{path}.running_mean", layer.running_mean),
        b.tensor(f"{path}.running_var", layer.running_var),
    ]
    return b.op("BatchNormalization", inputs, path, epsilon=float(layer.eps)), shape


def _normalization(b: _Builder, path: str, layer: Normalization, x: str, shape: Shape, opset: int):
    n = layer.num_features
    if not layer._has_statistics():
        raise ValueError(
            f"export_onnx: layer {path!r}, Normalization({'' if n is None else n}), has no "
            "statistics yet. Call .adapt(X_train) on it (or build it with mean= and scale=) "
            "before exporting."
        )
    if len(shape) < 2 or shape[-1] != n:
        raise ValueError(
            f"export_onnx: layer {path!r}, Normalization({n}), takes inputs of shape "
            f"(batch, ..., {n}) but receives {_show(shape)} here. Check input_shape (one "
            "sample's shape, without the batch axis)."
        )
    scale = backend.to_numpy(layer.scale)
    if layer.eps > 0:  # the floor applied in the layer's dtype, as its forward does
        scale = np.maximum(scale, scale.dtype.type(layer.eps))
    centered = b.op("Sub", [x, b.tensor(f"{path}.mean", layer.mean)], path)
    return b.op("Div", [centered, b.tensor(f"{path}.scale", scale)], path), shape


def _point_features(b: _Builder, path: str, layer: PointFeatures, x: str, shape: Shape, opset: int):
    if len(shape) < 2 or shape[-1] != 2:
        raise ValueError(
            f"export_onnx: layer {path!r}: PointFeatures takes (n, 2) points (x1, x2); got shape "
            f"{_show(shape)}. Pass input_shape=(2,)."
        )
    x1, x2 = (
        b.op("Gather", [x, b.tensor(f"{path}.x{i + 1}_index", [i], np.int64)], path, axis=-1)
        for i in (0, 1)
    )
    make = {
        "x1": lambda: x1,
        "x2": lambda: x2,
        "x1^2": lambda: b.op("Mul", [x1, x1], path),
        "x2^2": lambda: b.op("Mul", [x2, x2], path),
        "x1*x2": lambda: b.op("Mul", [x1, x2], path),
        "sin(x1)": lambda: b.op("Sin", [x1], path),
        "sin(x2)": lambda: b.op("Sin", [x2], path),
    }
    columns = [make[name]() for name in layer.features]
    out = columns[0] if len(columns) == 1 else b.op("Concat", columns, path, axis=-1)
    return out, shape[:-1] + (len(columns),)


def _unary(op_type: str) -> Converter:
    def convert(b: _Builder, path: str, layer: Any, x: str, shape: Shape, opset: int):
        return b.op(op_type, [x], path), shape

    return convert


def _identity(b: _Builder, path: str, layer: Any, x: str, shape: Shape, opset: int):
    return x, shape  # Dropout is the identity at inference


def _leaky_relu(b: _Builder, path: str, layer: LeakyReLU, x: str, shape: Shape, opset: int):
    slope = float(layer.negative_slope)
    if b.dtype == np.float32:
        return b.op("LeakyRelu", [x], path, alpha=slope), shape
    # float64: the alpha attribute would be rounded to float32; compose with a float64 constant
    positive = b.op("Greater", [x, b.scalar(0.0)], path)
    return b.op("Where", [positive, x, b.op("Mul", [x, b.scalar(slope)], path)], path), shape


def _elu(b: _Builder, path: str, layer: ELU, x: str, shape: Shape, opset: int):
    alpha = float(layer.alpha)
    if b.dtype == np.float32:
        return b.op("Elu", [x], path, alpha=alpha), shape
    # float64: onnxruntime has no float64 Elu kernel, and alpha would be rounded to float32.
    # Same formula as sinapsi.functional.elu: exp only sees non-positive values.
    positive = b.op("Greater", [x, b.scalar(0.0)], path)
    negative_part = b.op("Where", [positive, b.scalar(0.0), x], path)
    expm1 = b.op("Sub", [b.op("Exp", [negative_part], path), b.scalar(1.0)], path)
    scaled = b.op("Mul", [expm1, b.scalar(alpha)], path)
    return b.op("Where", [positive, x, scaled], path), shape


def _gelu(b: _Builder, path: str, layer: GELU, x: str, shape: Shape, opset: int):
    if opset >= 20:
        return b.op("Gelu", [x], path, approximate=layer.approximate), shape
    # Same formulas, in the same order, as sinapsi.functional.gelu.
    half_x = b.op("Mul", [x, b.scalar(0.5)], path)
    if layer.approximate == "tanh":
        cube = b.op("Mul", [b.op("Mul", [x, x], path), x], path)
        inner = b.op("Add", [x, b.op("Mul", [cube, b.scalar(0.044715)], path)], path)
        inner = b.op("Mul", [inner, b.scalar(math.sqrt(2.0 / math.pi))], path)
        cdf_2 = b.op("Add", [b.op("Tanh", [inner], path), b.scalar(1.0)], path)
    else:
        scaled = b.op("Mul", [x, b.scalar(1.0 / math.sqrt(2.0))], path)
        cdf_2 = b.op("Add", [b.op("Erf", [scaled], path), b.scalar(1.0)], path)
    return b.op("Mul", [half_x, cdf_2], path), shape


def _softplus(b: _Builder, path: str, layer: Softplus, x: str, shape: Shape, opset: int):
    # where(beta*x > threshold, x, log1p(exp(beta*x)) / beta), as sinapsi.functional.softplus;
    # ONNX has no Log1p, so log(1 + exp(.)); exp never sees more than the threshold.
    beta = float(layer.beta)
    bx = x if beta == 1.0 else b.op("Mul", [x, b.scalar(beta)], path)
    linear = b.op("Greater", [bx, b.scalar(float(layer.threshold))], path)
    safe = b.op("Where", [linear, b.scalar(0.0), bx], path)
    one_plus_exp = b.op("Add", [b.op("Exp", [safe], path), b.scalar(1.0)], path)
    smooth = b.op("Log", [one_plus_exp], path)
    if beta != 1.0:
        smooth = b.op("Mul", [smooth, b.scalar(1.0 / beta)], path)
    return b.op("Where", [linear, x, smooth], path), shape


def _softmax(b: _Builder, path: str, layer: Softmax, x: str, shape: Shape, opset: int):
    axis, rank = layer.axis, len(shape)
    if not -rank <= axis < rank:
        raise ValueError(
            f"export_onnx: layer {path!r}, {type(layer).__name__}(axis={axis}), receives "
            f"inputs of shape {_show(shape)}, which have no axis {axis}."
        )
    op_type = "LogSoftmax" if isinstance(layer, LogSoftmax) else "Softmax"
    return b.op(op_type, [x], path, axis=axis), shape


def _flatten(b: _Builder, path: str, layer: Flatten, x: str, shape: Shape, opset: int):
    rank = len(shape)
    start, end = layer.start_axis % rank, layer.end_axis % rank
    if start > end:
        raise ValueError(
            f"export_onnx: layer {path!r}, Flatten({layer.start_axis}, {layer.end_axis}), "
            f"receives inputs of shape {_show(shape)}, where start_axis comes after end_axis."
        )
    merged = shape[start : end + 1]
    size = None if None in merged else math.prod(merged)
    out_shape = shape[:start] + (size,) + shape[end + 1 :]
    if start == 1 and end == rank - 1:
        return b.op("Flatten", [x], path, axis=1), out_shape
    # Reshape: 0 copies the (batch) axis at the same position; -1 is the merged batch group.
    target = [0 if d is None else d for d in shape[:start]]
    target += [-1 if size is None else size]
    target += list(shape[end + 1 :])
    target_name = b.tensor(f"{path}.shape", np.asarray(target), dtype=np.int64)
    return b.op("Reshape", [x, target_name], path), out_shape


_CONVERTERS: dict[type, Converter] = {
    Linear: _linear,
    BatchNorm1d: _batch_norm,
    BatchNorm2d: _batch_norm,
    Normalization: _normalization,
    PointFeatures: _point_features,
    Dropout: _identity,
    Dropout2d: _identity,
    Identity: _identity,
    Flatten: _flatten,
    Sigmoid: _unary("Sigmoid"),
    Tanh: _unary("Tanh"),
    ReLU: _unary("Relu"),
    LeakyReLU: _leaky_relu,
    ELU: _elu,
    GELU: _gelu,
    Softplus: _softplus,
    Softmax: _softmax,
    LogSoftmax: _softmax,
    **CONV_CONVERTERS,
}
SUPPORTED = ", ".join(t.__name__ for t in _CONVERTERS)
