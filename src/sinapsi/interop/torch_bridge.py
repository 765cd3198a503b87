"""Convert ``Sequential`` networks between sinapsi and PyTorch, weights included.

``to_torch(model)`` builds the equivalent ``torch.nn.Sequential`` and ``from_torch(module)``
the equivalent ``sinapsi.nn.Sequential``. Both copy every array (the two models share no memory),
keep the dtype (float32 or float64), the train/eval mode of every module, each parameter's
``requires_grad``, BatchNorm1d's and BatchNorm2d's running statistics and
``num_batches_tracked``, and Normalization's ``mean`` and ``scale``. Nested Sequentials are
converted to nested Sequentials, so ``state_dict`` keys match on both sides; PyTorch children
with names (``Sequential(OrderedDict(fc1=...))``) get sinapsi's positional names ``0``, ``1``,
... A layer used twice (tied weights) is converted once and used twice on the other side
too. A model that mixes dtypes is refused (it could not run on either side).

Supported layers (each with its arguments):

===========================  =========================================================
sinapsi                      PyTorch
===========================  =========================================================
Linear                       torch.nn.Linear
BatchNorm1d                  torch.nn.BatchNorm1d (eps, momentum or None, affine,
                             track_running_stats)
Dropout(p)                   torch.nn.Dropout(p)
Sigmoid, Tanh, ReLU          torch.nn.Sigmoid, Tanh, ReLU
LeakyReLU(negative_slope)    torch.nn.LeakyReLU(negative_slope)
ELU(alpha)                   torch.nn.ELU(alpha)
GELU(approximate)            torch.nn.GELU(approximate)
Softplus(beta, threshold)    torch.nn.Softplus(beta, threshold)
Softmax(axis)                torch.nn.Softmax(dim)
LogSoftmax(axis)             torch.nn.LogSoftmax(dim)
Identity                     torch.nn.Identity
Flatten(start_axis, end)     torch.nn.Flatten(start_dim, end_dim)
Conv2d, Conv1d, MaxPool2d    their torch.nn namesakes, with the same arguments (see
                             sinapsi.interop._torch_conv); a torch option that
                             sinapsi lacks (MaxPool2d's return_indices) is refused
                             with a one-line ValueError
AvgPool2d, BatchNorm2d       likewise
AdaptiveAvgPool2d            likewise
Dropout2d, Unflatten         likewise
Normalization(eps)           sinapsi.interop.torch_layers.Normalization(num_features,
                             eps): ``torch.nn`` has no such layer, so the twin is a
                             small ``torch.nn.Module`` with the buffers ``mean`` and
                             ``scale`` computing ``(x - mean) / max(scale, eps)``
===========================  =========================================================

PyTorch's tensors are copied to the CPU. ``torch`` is imported only when a function is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from ..nn import (
    ELU,
    GELU,
    BatchNorm1d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Module,
    Normalization,
    Parameter,
    PointFeatures,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from ._torch_conv import TO_TORCH as _CONV_TO_TORCH
from ._torch_conv import from_torch_table as _conv_from_torch_table

__all__ = ["to_torch", "from_torch"]

_DTYPES = ("float32", "float64")


def to_torch(model: Module) -> Any:
    """The ``torch.nn.Sequential`` equivalent to ``model``, with copies of its weights.

    Args:
        model: an ``nn.Sequential`` of supported layers (nested ones too), or one layer
            (returned inside a Sequential).

    The result has the same dtype, the same train/eval mode (module by module), the same
    ``requires_grad`` flags and BatchNorm1d running statistics. See the module docstring for
    the supported layers.

    >>> from sinapsi import nn
    >>> model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 1, rng=1))
    >>> to_torch(model)
    Sequential(
      (0): Linear(in_features=2, out_features=8, bias=True)
      (1): Tanh()
      (2): Linear(in_features=8, out_features=1, bias=True)
    )
    """
    torch = _import_torch("to_torch")
    if not isinstance(model, Module):
        raise TypeError(
            "to_torch needs a sinapsi nn.Module (an nn.Sequential of supported layers). "
            f"Received: an object of type {type(model).__name__}."
        )
    _check_supported(
        "to_torch", model, lambda m: type(m) is Sequential, lambda m: type(m) in _TO_TORCH
    )
    _check_dtypes_sinapsi(model)
    top = model if type(model) is Sequential else _wrap_sinapsi(model)
    _check_statistics(top)
    return _sinapsi_to_torch(torch, top, {})


def from_torch(module: Any, *, rng: Any = None) -> Sequential:
    """The ``sinapsi.nn.Sequential`` equivalent to a ``torch.nn.Sequential``, weights copied.

    Args:
        module: a ``torch.nn.Sequential`` of supported layers (nested ones too), or one layer
            (returned inside a Sequential). Its tensors may be on any device.
        rng: seed or ``numpy.random.Generator`` for the Dropout layers' masks.

    The result has the same dtype (float32 or float64), train/eval mode (module by module),
    ``requires_grad`` flags and BatchNorm1d running statistics. See the module docstring for
    the supported layers.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    >>> from_torch(net)
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=2, bias=True)
    )
    """
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(
            "from_torch needs a torch.nn.Module (a torch.nn.Sequential of supported layers). "
            f"Received: an object of type {type(module).__name__}."
        )
    table = _from_torch_table(torch)
    _check_supported(
        "from_torch",
        module,
        lambda m: type(m) is torch.nn.Sequential,
        lambda m: type(m) in table,
        children=lambda m: m._modules.items(),
    )
    _check_dtypes_torch(torch, module)
    generator = backend.new_rng(rng)
    top = module if type(module) is torch.nn.Sequential else torch.nn.Sequential(module)
    return _torch_to_sinapsi(torch, table, top, generator, {})


# ----------------------------------------------------------------------------- checks


def _import_torch(caller: str) -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            f"{caller} needs PyTorch, which is not installed. Install it with: pip install torch "
            "(the CPU build is enough: see https://pytorch.org/get-started/locally/)."
        ) from error
    return torch


def _check_supported(
    caller: str,
    root: Any,
    is_container: Callable[[Any], bool],
    is_supported: Callable[[Any], bool],
    children: Callable[[Any], Any] = lambda m: m._modules.items(),
) -> None:
    """Walk the tree and report every unsupported module in one error."""
    unsupported: list[str] = []
    stack = [("", root)]
    while stack:
        path, m = stack.pop()
        if is_container(m):
            items = list(children(m))
            stack.extend((f"{path}.{n}" if path else n, c) for n, c in reversed(items))
        elif not is_supported(m):
            unsupported.append(f"{type(m).__name__} (at {path or 'the top'!r})")
    if unsupported:
        side = "torch.nn." if caller == "from_torch" else "nn."
        names = [
            f"sinapsi.interop.torch_layers.{name}"
            if caller == "from_torch" and name in _TORCH_TWINS
            else side + name
            for name in SUPPORTED
        ]
        raise TypeError(
            f"{caller} cannot convert {', '.join(unsupported)}. Supported layers: "
            f"{', '.join(names)}, inside {side}Sequential containers "
            "(nested ones are fine). Rebuild the model from supported layers."
        )


def _check_one_dtype(caller: str, found: dict[str, str], fix: str, allowed: Any) -> None:
    """``found``: dtype name by tensor name. Refuse other dtypes than float32/float64, and a mix
    (a float32 layer feeding a float64 one fails on both sides)."""
    for name, dtype in found.items():
        if dtype not in allowed:
            raise TypeError(
                f"{caller} converts float32 and float64 models; {name!r} is {dtype}. Convert "
                f"the model first: {fix}."
            )
    if len(set(found.values())) > 1:
        first = {}
        for name, dtype in found.items():
            first.setdefault(dtype, name)
        where = ", ".join(f"{name!r} is {dtype}" for dtype, name in sorted(first.items()))
        raise TypeError(
            f"{caller}: the model mixes dtypes {sorted(first)} ({where}). Convert it to one "
            f"first: {fix}."
        )


def _check_dtypes_sinapsi(model: Module) -> None:
    found = {name: np.dtype(p.dtype).name for name, p in model.named_parameters()}
    for name, b in model.named_buffers():
        if b is not None and np.dtype(b.dtype).kind == "f":
            found[name] = np.dtype(b.dtype).name
    _check_one_dtype("to_torch", found, "model.astype('float32') (or 'float64')", _DTYPES)


def _check_dtypes_torch(torch: Any, module: Any) -> None:
    tensors = list(module.named_parameters()) + [
        (n, b) for n, b in module.named_buffers() if b.is_floating_point()
    ]
    found = {name: str(t.dtype) for name, t in tensors}
    allowed = [f"torch.{name}" for name in _DTYPES]
    _check_one_dtype("from_torch", found, "module.float() (or module.double())", allowed)


def _check_statistics(model: Module) -> None:
    for path, m in model.named_modules():
        if isinstance(m, Normalization) and not m._has_statistics():
            features = "" if m.num_features is None else m.num_features
            raise ValueError(
                f"to_torch: layer {path or type(m).__name__!r}, Normalization({features}), has "
                "no statistics yet. Call .adapt(X_train) on it (or build it with mean= and "
                "scale=) before converting."
            )


# ----------------------------------------------------------------------------- arrays


def _wrap_sinapsi(layer: Module) -> Sequential:
    seq = Sequential(layer)
    object.__setattr__(seq, "training", layer.training)  # the layer's own mode is untouched
    return seq


def _to_tensor(torch: Any, array: Any) -> Any:
    return torch.from_numpy(np.array(backend.to_numpy(array), copy=True))


def _to_array(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().copy()


def _torch_param(torch: Any, p: Parameter) -> Any:
    return torch.nn.Parameter(_to_tensor(torch, p.data), requires_grad=bool(p.requires_grad))


def _sinapsi_param(t: Any) -> Parameter:
    array = _to_array(t)
    return Parameter(array, requires_grad=bool(t.requires_grad), dtype=array.dtype)


# ----------------------------------------------------------------------------- sinapsi -> torch


def _sinapsi_to_torch(torch: Any, m: Module, done: dict[int, Any]) -> Any:
    if id(m) in done:  # a layer used twice: one torch module, used twice
        return done[id(m)]
    if type(m) is Sequential:
        children = (_sinapsi_to_torch(torch, c, done) for c in m._modules.values())
        out = torch.nn.Sequential(*children)
    else:
        out = _TO_TORCH[type(m)](torch, m)
    out.training = bool(m.training)  # module by module, as set on the sinapsi side
    done[id(m)] = out
    return out


def _linear_to_torch(torch: Any, m: Linear) -> Any:
    layer = torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
    layer.weight = _torch_param(torch, m.weight)
    if m.bias is not None:
        layer.bias = _torch_param(torch, m.bias)
    return layer


def _batch_norm_to_torch(torch: Any, m: BatchNorm1d, kind: Any = None) -> Any:
    layer = (kind or torch.nn.BatchNorm1d)(
        m.num_features,
        eps=m.eps,
        momentum=m.momentum,
        affine=m.affine,
        track_running_stats=m.track_running_stats,
    )
    if m.affine:
        layer.weight = _torch_param(torch, m.weight)
        layer.bias = _torch_param(torch, m.bias)
    if m.track_running_stats:
        layer.running_mean = _to_tensor(torch, m.running_mean)
        layer.running_var = _to_tensor(torch, m.running_var)
        count = int(backend.to_numpy(m.num_batches_tracked))
        layer.num_batches_tracked = torch.tensor(count, dtype=torch.long)
    return layer


def _normalization_to_torch(torch: Any, m: Normalization) -> Any:
    from .torch_layers import Normalization as TorchNormalization

    mean, scale = _to_tensor(torch, m.mean), _to_tensor(torch, m.scale)
    layer = TorchNormalization(m.num_features, eps=m.eps, dtype=mean.dtype)
    layer.mean, layer.scale = mean, scale
    return layer


def _point_features_to_torch(torch: Any, m: PointFeatures) -> Any:
    from .torch_layers import PointFeatures as TorchPointFeatures

    return TorchPointFeatures(m.features)


_TO_TORCH: dict[type, Callable[[Any, Any], Any]] = {
    Linear: _linear_to_torch,
    BatchNorm1d: _batch_norm_to_torch,
    Dropout: lambda torch, m: torch.nn.Dropout(m.p),
    Identity: lambda torch, m: torch.nn.Identity(),
    Flatten: lambda torch, m: torch.nn.Flatten(m.start_axis, m.end_axis),
    Sigmoid: lambda torch, m: torch.nn.Sigmoid(),
    Tanh: lambda torch, m: torch.nn.Tanh(),
    ReLU: lambda torch, m: torch.nn.ReLU(),
    LeakyReLU: lambda torch, m: torch.nn.LeakyReLU(m.negative_slope),
    ELU: lambda torch, m: torch.nn.ELU(m.alpha),
    GELU: lambda torch, m: torch.nn.GELU(approximate=m.approximate),
    Softplus: lambda torch, m: torch.nn.Softplus(m.beta, m.threshold),
    Softmax: lambda torch, m: torch.nn.Softmax(dim=m.axis),
    LogSoftmax: lambda torch, m: torch.nn.LogSoftmax(dim=m.axis),
    Normalization: _normalization_to_torch,
    PointFeatures: _point_features_to_torch,
    **_CONV_TO_TORCH,
}
SUPPORTED = [t.__name__ for t in _TO_TORCH]
# sinapsi layers whose torch twins live in sinapsi.interop.torch_layers (torch has none)
_TORCH_TWINS = ("Normalization", "PointFeatures")


# ----------------------------------------------------------------------------- torch -> sinapsi


def _torch_to_sinapsi(
    torch: Any, table: dict[type, Any], m: Any, rng: Any, done: dict[int, Module]
) -> Module:
    if id(m) in done:  # a module used twice: one sinapsi layer, used twice
        return done[id(m)]
    if type(m) is torch.nn.Sequential:
        children = m._modules.values()
        out = Sequential([_torch_to_sinapsi(torch, table, c, rng, done) for c in children])
    else:
        out = table[type(m)](m, rng)
    object.__setattr__(out, "training", bool(m.training))
    done[id(m)] = out
    return out


def _linear_from_torch(m: Any, rng: Any) -> Linear:
    weight = _sinapsi_param(m.weight)
    layer = Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=weight.dtype)
    layer.weight = weight
    if m.bias is not None:
        layer.bias = _sinapsi_param(m.bias)
    return layer


def _batch_norm_from_torch(m: Any, rng: Any, kind: type[BatchNorm1d] = BatchNorm1d) -> BatchNorm1d:
    first = m.weight if m.affine else m.running_mean
    dtype = None if first is None else _to_array(first).dtype
    layer = kind(
        m.num_features,
        eps=m.eps,
        momentum=m.momentum,
        affine=m.affine,
        track_running_stats=m.track_running_stats,
        dtype=dtype,
    )
    if m.affine:
        layer.weight = _sinapsi_param(m.weight)
        layer.bias = _sinapsi_param(m.bias)
    if m.track_running_stats:
        layer.running_mean = _to_array(m.running_mean)
        layer.running_var = _to_array(m.running_var)
        layer.num_batches_tracked = np.array(int(m.num_batches_tracked), dtype=np.int64)
    return layer


def _normalization_from_torch(m: Any, rng: Any) -> Normalization:
    mean, scale = _to_array(m.mean), _to_array(m.scale)
    layer = Normalization(m.num_features, eps=m.eps, dtype=mean.dtype)
    layer.mean, layer.scale = mean, scale  # as they are (placeholders included)
    return layer


def _softmax_from_torch(kind: type[Softmax]) -> Callable[[Any, Any], Softmax]:
    def convert(m: Any, rng: Any) -> Softmax:
        if m.dim is None:
            torch_name = f"torch.nn.{type(m).__name__}"
            raise ValueError(
                f"from_torch: {torch_name}(dim=None) picks its axis from the input's rank "
                f"(deprecated in PyTorch). Give the axis explicitly, e.g. {torch_name}(dim=-1)."
            )
        return kind(axis=int(m.dim))

    return convert


def _from_torch_table(torch: Any) -> dict[type, Callable[[Any, Any], Module]]:
    from .torch_layers import Normalization as TorchNormalization
    from .torch_layers import PointFeatures as TorchPointFeatures

    tnn = torch.nn
    return {
        tnn.Linear: _linear_from_torch,
        tnn.BatchNorm1d: _batch_norm_from_torch,
        tnn.Dropout: lambda m, rng: Dropout(m.p, rng=rng),
        tnn.Identity: lambda m, rng: Identity(),
        tnn.Flatten: lambda m, rng: Flatten(m.start_dim, m.end_dim),
        tnn.Sigmoid: lambda m, rng: Sigmoid(),
        tnn.Tanh: lambda m, rng: Tanh(),
        tnn.ReLU: lambda m, rng: ReLU(),
        tnn.LeakyReLU: lambda m, rng: LeakyReLU(float(m.negative_slope)),
        tnn.ELU: lambda m, rng: ELU(float(m.alpha)),
        tnn.GELU: lambda m, rng: GELU(approximate=m.approximate),
        tnn.Softplus: lambda m, rng: Softplus(float(m.beta), float(m.threshold)),
        tnn.Softmax: _softmax_from_torch(Softmax),
        tnn.LogSoftmax: _softmax_from_torch(LogSoftmax),
        TorchNormalization: _normalization_from_torch,
        TorchPointFeatures: lambda m, rng: PointFeatures(m.features),
        **_conv_from_torch_table(torch),
    }
