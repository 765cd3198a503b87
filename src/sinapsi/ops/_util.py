"""Helpers shared by the op modules: operand conversion, dtype rules and error messages."""

from __future__ import annotations

import numbers
from typing import Any

from .. import backend
from ..autograd import _mode
from ..tensor import Tensor


def wrap(data: Any) -> Tensor:
    """A constant tensor around an existing array, with no conversion (fast path for ops)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.requires_grad = False
    out._node = None
    out.name = None
    return out


def constant(value: Any, like: Tensor) -> Tensor:
    """``value`` (a number or array, not a Tensor) as a constant in ``like``'s floating dtype.

    Python numbers never upcast a float32 tensor: ``x * 2.0`` stays float32, as in PyTorch.
    Next to an integer tensor the value keeps its own kind, and :func:`pair` promotes.
    """
    if like.data.dtype.kind == "f":
        xp = backend.get_array_module(like.data)
        return wrap(xp.asarray(value, dtype=like.data.dtype))
    return Tensor(value)


def operand(value: Any) -> Tensor:
    """``value`` as a tensor (a unary op's input)."""
    return value if isinstance(value, Tensor) else Tensor(value)


def floating(value: Any) -> Tensor:
    """``value`` as a floating tensor: an integer or boolean one becomes a constant in the
    default dtype, as ``torch.exp(int_tensor)`` is float32 (NumPy's would be float64)."""
    x = operand(value)
    if x.data.dtype.kind == "f":
        return x
    return wrap(x.data.astype(backend.get_default_dtype()))


def pair(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors of one dtype.

    Two floating tensors of different dtypes are an error (no silent float64 upcast); a
    non-differentiable integer or boolean tensor meeting a floating one is cast to it.
    """
    a_is, b_is = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is and not b_is:
        b = constant(b, a)
    elif b_is and not a_is:
        a = constant(a, b)
    elif not a_is and not b_is:
        a, b = Tensor(a), Tensor(b)
    da, db = a.data.dtype, b.data.dtype
    if da != db:
        fa, fb = da.kind == "f", db.kind == "f"
        if fa and fb:
            raise TypeError(
                f"{op}: the operands have different dtypes, {da} and {db} (shapes {a.shape} and "
                f"{b.shape}). sinapsi never promotes silently: convert one with .astype('{da}') "
                f"or .astype('{db}'), or build both in one default dtype."
            )
        if fa:
            b = wrap(b.data.astype(da))
        elif fb:
            a = wrap(a.data.astype(db))
    return a, b


def broadcast_error(op: str, *tensors: Tensor) -> ValueError:
    shapes = " and ".join(str(t.shape) for t in tensors)
    return ValueError(
        f"{op}: cannot broadcast shapes {shapes}. Trailing axes must be equal or 1 "
        "(NumPy broadcasting); reshape one operand, e.g. x.reshape(-1, 1)."
    )


def normalize_axes(op: str, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a sequence) as a sorted tuple of non-negative axes.

    A 0-d tensor accepts axis ``0`` or ``-1``, as in PyTorch, and has no axis to reduce: they
    become ``()``, so a reduction or squeeze returns the scalar itself.
    """
    if axis is None:
        return None
    axes = (axis,) if type(axis) is int or isinstance(axis, numbers.Integral) else tuple(axis)
    span = max(ndim, 1)
    out = []
    for a in axes:
        if not -span <= a < span:
            raise ValueError(
                f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions "
                f"(valid: {-span} to {span - 1})."
            )
        out.append(int(a) % span)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}.")
    return () if ndim == 0 else tuple(sorted(out))


def normalize_axis(op: str, axis: int, ndim: int) -> int:
    """One axis (an int) as a non-negative axis; ``0`` or ``-1`` of a 0-d tensor give ``0``."""
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int; got {axis!r}. Pass one axis, e.g. axis=1.")
    normalize_axes(op, axis, ndim)
    return int(axis) % max(ndim, 1)


def max_kept(data: Any, axes: tuple[int, ...] | None) -> Any:
    """``data.max(axes, keepdims=True)``, or zeros where ``axes`` are empty (a shift for the
    softmax family, which reduces a zero-length axis to an empty result or ``-inf``)."""
    if data.size:
        return data.max(axis=axes, keepdims=True)
    xp = backend.get_array_module(data)
    keep = range(data.ndim) if axes is None else axes
    return xp.zeros(tuple(1 if i in keep else n for i, n in enumerate(data.shape)), data.dtype)


def torch_names(
    op: str, axis: Any, keepdims: bool, dim: Any = None, keepdim: bool | None = None
) -> tuple[Any, bool]:
    """``(axis, keepdims)`` from NumPy's names or PyTorch's ``dim=``/``keepdim=`` aliases."""
    if dim is not None:  # the common call has no dim: skip the shared check per reduction
        axis = axis_or_dim(op, axis, dim, None)
    if keepdim is not None:
        keepdims = keepdim
    return axis, bool(keepdims)


def axis_or_dim(op: str, axis: Any, dim: Any, default: Any) -> Any:
    """``axis`` or its PyTorch name ``dim`` (not both); ``default`` when neither is given."""
    return numpy_or_torch_name(op, "axis", axis, "dim", dim, default)


def numpy_or_torch_name(
    op: str, name: str, value: Any, torch_name: str, torch_value: Any, default: Any
) -> Any:
    """An argument given by its NumPy name or its PyTorch name (not both), else ``default``
    (``axis``/``dim``, ``start_axis``/``start_dim``, ...)."""
    if value is not None and torch_value is not None:
        raise TypeError(
            f"{op}: got both {name}={value!r} and {torch_name}={torch_value!r}; they are the "
            "same argument (NumPy's and PyTorch's name). Pass one."
        )
    if torch_value is not None:
        return torch_value
    return default if value is None else value


def int_tuple(op: str, name: str, value: Any, n: int, minimum: int) -> tuple[int, ...]:
    """``value`` (an int, or a tuple/list of ``n`` ints) as a tuple of ``n`` ints, each >=
    ``minimum``: PyTorch's ``_pair`` with checks. Shared by the conv and pooling ops and layers,
    which name themselves in ``op``."""

    def is_int(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if is_int(value):
        values = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(map(is_int, value)):
        values = tuple(int(v) for v in value)
    else:
        shown = tuple(value) if isinstance(value, list) else value
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints; got {shown!r}. "
            f"E.g. {name}={3 if name == 'kernel_size' else 1}."
        )
    if any(v < minimum for v in values):
        kind = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}. Received: {name}={value!r}")
    return values


def prepare(state: list[Any], data: Any, *operands: Any) -> Any:
    """The array module of ``data``, for a replay; runs on every replay of the op.

    ``operands`` alternate each operand tensor of the op with the argument it was made from
    (``a, a0, b, b0``). On the first replay ``state`` (an empty list made by the forward)
    caches the module and the operands that ``pair``, ``floating``, ``operand`` or
    ``constant`` converted from an array argument into a new array; every replay then
    re-converts those from the argument's current values (``astype``'s cast), so the replay
    reads them as a fresh call would. Operands made from Python numbers are constants.
    """
    if not state:
        copies = []
        scalar = backend.numpy.generic  # a NumPy scalar argument is a constant, as a number
        for t, source in zip(operands[::2], operands[1::2]):
            if t is None or t is source:
                continue
            src = source.data if isinstance(source, Tensor) else source
            dst = t.data
            if src is not dst and hasattr(src, "shape") and not isinstance(src, scalar):
                if not isinstance(dst, scalar):
                    copies.append((dst, source))
        state += (backend.get_array_module(data), tuple(copies))
    for dst, source in state[1]:
        src = source.data if isinstance(source, Tensor) else source
        state[0].copyto(dst, src, casting="unsafe")
    return state[0]


_SCALARS: dict[tuple[Any, float, Any], Any] = {}


def scalar_array(xp: Any, value: float, dtype: Any) -> Any:
    """``value`` as a read-only 0-d array of ``dtype`` (cached): the number a Python scalar
    operand becomes in a ufunc with a ``dtype`` array (NEP 50: cast to the array's dtype), so
    the result is the same bits, but a cheaper operand in a small network's hot loop (NumPy
    spends ~0.4 us more per call converting a Python scalar than reading a 0-d array)."""
    key = (xp, value, dtype)
    a = _SCALARS.get(key)
    if a is None:
        a = xp.asarray(value, dtype=dtype)
        if xp is backend.numpy:
            a.flags.writeable = False  # shared by every op that asks for it
        if len(_SCALARS) >= 256:  # e.g. a schedule's learning rates: keep the recent ones
            _SCALARS.clear()
        _SCALARS[key] = a
    return a


def reused() -> Any:
    """The array a captured step's plan (:func:`sinapsi.capture`) gives this backward
    closure's result, to be written into (``out=``); None on an eager call and on the step's
    recording walk, where the op makes its result as it always does and hands it to
    :func:`keep`."""
    return _mode.out


def keep(result: Any) -> Any:
    """``result``, noted on a captured step's recording walk: the plan then gives the closure an
    array like it (shape, dtype and layout, so the bits downstream are the eager ones) on every
    later walk, shared with the closures whose results are never alive at the same time, as
    the allocator would hand back freed memory: no allocation per step, and the same few
    arrays hot in cache."""
    made = _mode.made
    if made is not None:
        made.append(result)
    return result
