"""Tensor: an array that remembers how it was computed, so it can backpropagate.

A tensor wraps a NumPy (or CuPy) array in ``.data``. When an op is applied to tensors that
require gradients, the result links to a graph node holding the op's backward; ``backward()``
walks those links in reverse and fills ``.grad`` (a plain array, shaped like ``.data``) of every
leaf tensor that requires a gradient.

>>> import sinapsi as sn
>>> w = sn.tensor([2.0, -1.0], requires_grad=True)
>>> loss = (w * w).sum()
>>> loss.backward()
>>> w.grad
array([ 4., -2.], dtype=float32)
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

from . import autograd, backend

__all__ = ["Tensor", "tensor", "as_tensor", "zeros", "ones", "full", "zeros_like", "ones_like"]


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Args:
        data: array-like (nested lists, a NumPy/CuPy array, a scalar or a Tensor).
        requires_grad: whether ``backward()`` should compute ``.grad`` for this tensor.
        dtype: the dtype to store. ``None`` keeps integer and boolean data as they are and
            stores floating data in the default dtype (float32 unless changed with
            ``sinapsi.set_default_dtype``). Arrays are shared, not copied, when no conversion
            is needed.

    Only floating tensors can require gradients. ``.grad`` is a plain array (like chainer's
    ``Variable.grad``), or ``None`` until a backward pass reaches the tensor.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "name", "__weakref__")
    __array_ufunc__ = None  # numpy_array + tensor -> Tensor.__radd__, never an object array

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        """``np.asarray(t)``: the values, as :meth:`numpy` (scikit-learn's metrics and NumPy
        functions take tensors, as torch's); not an object array of 0-d tensors."""
        if autograd._mode.tape is not None:
            autograd.note_host_read(self, "numpy.asarray(tensor)")
        a = backend.to_numpy(self.data)
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a.copy() if copy else a

    __hash__ = object.__hash__  # __eq__ is elementwise, so keep identity hashing

    data: Any
    grad: Any
    requires_grad: bool
    _node: autograd.Node | None
    name: str | None

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None
    ) -> None:
        self.data = _to_array(data, dtype)
        self.grad = None
        self._node = None
        self.name = name
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- array-like information
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> _Size:
        """The number of elements, as NumPy's ``.size``; also callable as PyTorch's
        ``.size()`` (the shape) and ``.size(dim)`` (one axis' length)."""
        return _Size(self.data.shape)

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return int(self.data.size)

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by an op that records a graph."""
        return self._node is None

    @property
    def op(self) -> str | None:
        """The name of the op that produced this tensor (``None`` for a leaf)."""
        return None if self._node is None else self._node.op

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"The truth value of a tensor with {self.data.size} elements is ambiguous. "
                "Use .any() or .all() on .data, or compare a single element."
            )
        if autograd._mode.tape is not None:
            autograd.note_host_read(self, "bool(tensor)")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        xp = backend.get_array_module(self.data)
        body = xp.array2string(
            backend.to_numpy(self.data) if xp is not backend.numpy else self.data,
            separator=", ",
            prefix="Tensor(",
            precision=4,
            threshold=200,
        )
        extra = [f"dtype={self.data.dtype}"]
        if self._node is not None:
            extra.append(f"op={self._node.op}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return f"Tensor({body}, {', '.join(extra)})"

    # ------------------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (only floating tensors may require gradients)."""
        if requires_grad and not backend.is_floating(self.data.dtype):
            raise TypeError(
                f"Only floating-point tensors can require gradients; this one has dtype "
                f"{self.data.dtype}. Convert it first, e.g. Tensor(data, dtype='float32')."
            )
        if not requires_grad and self._node is not None:
            raise RuntimeError(
                "requires_grad_(False) on a tensor computed by an op: use .detach() instead."
            )
        self.requires_grad = requires_grad
        return self

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor, accumulating into ``.grad`` of the leaves.

        Args:
            grad: the gradient of the final objective with respect to this tensor. May be
                omitted only for a one-element tensor (a loss), where it is 1.
            retain_graph: keep the graph so backward can run through it again. By default the
                graph is freed, like PyTorch, to release the arrays it saved.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the computation "
                "had requires_grad=True (or it ran under no_grad()). Create the inputs with "
                "requires_grad=True."
            )
        xp = backend.get_array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient argument works only on a one-element tensor "
                    f"(a scalar loss); this tensor has shape {self.shape}. Reduce it first "
                    "(e.g. .sum() or .mean()) or pass grad= with the same shape."
                )
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=self.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"backward(grad=...): grad has shape {tuple(grad.shape)} but the tensor has "
                    f"shape {self.shape}; they must match."
                )
            if grad.dtype != self.data.dtype:
                grad = grad.astype(self.data.dtype)
        autograd.run_backward(self, grad, retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """A tensor sharing the same data, cut from the graph (no gradient flows through it)."""
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out.requires_grad, out._node, out.name = (
            self.data,
            None,
            False,
            None,
            None,
        )
        return out

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a one-element tensor; this one has shape {self.shape}. "
                "Use .numpy() for arrays."
            )
        if autograd._mode.tape is not None:
            autograd.note_host_read(self, "Tensor.item()")
        return self.data.item()

    def numpy(self) -> Any:
        """The data as a NumPy array (shared with the tensor on the CPU; copied from a GPU)."""
        if autograd._mode.tape is not None:
            autograd.note_host_read(self, "Tensor.numpy()")
        return backend.to_numpy(self.data)

    def tolist(self) -> Any:
        return self.numpy().tolist()

    # -------------------------------------------------------------------- python operators
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    # In place, as torch: ``p -= lr * p.grad`` under no_grad() changes p itself (without these
    # Python rebinds p to a new tensor and the model silently stays as it was).
    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place(ops.add, other, "+")

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place(ops.sub, other, "-")

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place(ops.mul, other, "*")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place(ops.div, other, "/")

    def _in_place(self, op: Any, other: Any, symbol: str) -> Tensor:
        """``self <symbol>= other``. Inside ``no_grad()`` (where torch code updates parameters)
        the values change in this tensor object, keeping its shape and dtype; change a tensor
        there only after the backward of any graph that used it (torch raises otherwise; this
        cannot tell). While a graph is recorded a leaf that requires grad is refused, as in
        torch, and any other tensor gets a new one (``x = x + y``: the gradient is right, and
        names still bound to the old tensor keep the old values, unlike torch)."""
        if autograd.is_grad_enabled():
            if self.requires_grad and self.is_leaf:
                raise RuntimeError(
                    f"x {symbol}= ...: x is a leaf tensor that requires grad (shape {self.shape}), "
                    "which cannot change in place while the graph is recorded; update it inside "
                    "`with sn.no_grad():`, as in torch, or write x = x "
                    f"{symbol} ... for a new tensor."
                )
            return op(self, other)
        with autograd.no_grad():
            result = op(self, other)
        if result.shape != self.shape or result.dtype != self.dtype:
            what = "shape" if result.shape != self.shape else "dtype"
            raise (ValueError if what == "shape" else TypeError)(
                f"x {symbol}= ...: the result has shape {result.shape} and dtype {result.dtype}, "
                f"but an in-place update keeps x's shape {self.shape} and dtype {self.dtype}; "
                f"write x = x {symbol} ... for a new tensor."
            )
        self.data = result.data
        return self

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.div(self, other, rounding_mode="floor")

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.div(other, self, rounding_mode="floor")

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # Comparisons give boolean tensors and are not differentiable (as in PyTorch).
    def __lt__(self, other: Any) -> Tensor:
        return ops.lt(self, other)  # an op: a captured step recomputes the mask

    def __le__(self, other: Any) -> Tensor:
        return ops.le(self, other)  # an op: a captured step recomputes the mask

    def __gt__(self, other: Any) -> Tensor:
        return ops.gt(self, other)  # an op: a captured step recomputes the mask

    def __ge__(self, other: Any) -> Tensor:
        return ops.ge(self, other)  # an op: a captured step recomputes the mask

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.eq(self, other)  # an op: a captured step recomputes the mask

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.ne(self, other)  # an op: a captured step recomputes the mask

    # ------------------------------------------------------------------------ op methods
    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def log1p(self) -> Tensor:
        return ops.log1p(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - numpy's names
        return ops.clip(self, min, max)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch's names
        """PyTorch's name for :meth:`clip` (``torch.clamp``): the same values and gradient."""
        return ops.clip(self, min, max)

    def pow(self, exponent: Any) -> Tensor:
        """``self ** exponent`` (``torch.Tensor.pow``); the exponent may be a tensor."""
        return ops.pow(self, exponent)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return ops.softmax(self, axis, dim=dim)

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return ops.log_softmax(self, axis, dim=dim)

    # Reductions take NumPy's axis=/keepdims= or PyTorch's dim=/keepdim= (see sinapsi.ops).
    def sum(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        return ops.sum(self, axis, keepdims, **torch_names)

    def mean(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        return ops.mean(self, axis, keepdims, **torch_names)

    def max(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        return ops.max(self, axis, keepdims, **torch_names)

    def min(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        return ops.min(self, axis, keepdims, **torch_names)

    def argmax(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        """Indices of the maxima (int64, no gradient); see :func:`sinapsi.argmax`."""
        return ops.argmax(self, axis, keepdims, **torch_names)

    def argmin(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        """Indices of the minima (int64, no gradient); see :func:`sinapsi.argmin`."""
        return ops.argmin(self, axis, keepdims, **torch_names)

    def var(
        self, axis: Any = None, keepdims: bool = False, ddof: int | None = None, **torch_names: Any
    ) -> Tensor:
        return ops.var(self, axis, keepdims, ddof, **torch_names)

    def logsumexp(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        return ops.logsumexp(self, axis, keepdims, **torch_names)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, _varargs(shape))

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's ``view``: :meth:`reshape` (NumPy arrays need no contiguity to reshape)."""
        return ops.reshape(self, _varargs(shape))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 axis at ``dim`` (``torch.unsqueeze``; :func:`sinapsi.expand_dims`)."""
        return ops.expand_dims(self, dim)

    def squeeze(self, dim: Any = None) -> Tensor:
        """Remove size-1 axes: all, or ``dim``. Unlike ``torch.squeeze``, which leaves an axis
        of another size as it is, that is an error here (NumPy's rule): it is usually a bug."""
        return ops.squeeze(self, dim)

    def transpose(self, *axes: Any) -> Tensor:
        return ops.transpose(self, _varargs(axes) or None)

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the axes (``torch.permute``): ``x.permute(0, 2, 1)``."""
        return ops.transpose(self, _varargs(dims))

    @property
    def T(self) -> Tensor:  # noqa: N802 - numpy's name
        return ops.transpose(self, None)

    @property
    def mT(self) -> Tensor:  # noqa: N802 - torch's name
        """The last two axes swapped (a batch of matrices transposed), as PyTorch's ``.mT``."""
        if self.ndim < 2:
            raise ValueError(
                f"mT needs at least 2 dimensions; got a tensor of shape {self.shape}. Use .T "
                "or reshape first."
            )
        axes = list(range(self.ndim))
        axes[-2], axes[-1] = axes[-1], axes[-2]
        return ops.transpose(self, axes)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        return ops.flatten(self, start_axis, end_axis)

    def gather(self, axis: int, index: Any) -> Tensor:
        return ops.gather(self, axis, index)

    def astype(self, dtype: Any) -> Tensor:
        return ops.astype(self, dtype)

    def float(self) -> Tensor:
        """Cast to float32 (PyTorch's ``.float()``); the gradient flows back."""
        return ops.astype(self, "float32")

    def double(self) -> Tensor:
        """Cast to float64 (PyTorch's ``.double()``); the gradient flows back."""
        return ops.astype(self, "float64")

    def long(self) -> Tensor:
        """Cast to int64 (PyTorch's ``.long()``, e.g. for labels): a constant, no gradient."""
        return ops.astype(self, "int64")

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (``torch.clone``)."""
        return ops.astype(self, self.data.dtype)  # astype copies; its gradient passes back


class _Size(int):
    """``Tensor.size``: an int (the number of elements, NumPy's meaning) that can be called
    as PyTorch's ``size()`` (the shape) or ``size(dim)`` (one axis' length)."""

    def __new__(cls, shape: tuple[int, ...]) -> _Size:
        n = 1
        for side in shape:
            n *= side
        out = super().__new__(cls, n)
        out.shape = tuple(shape)
        return out

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        from .ops._util import normalize_axis

        return self.shape[normalize_axis("size", dim, len(self.shape))]

    def __getnewargs__(self) -> tuple[Any, ...]:  # pickle: rebuild from the shape
        return (self.shape,)


def _varargs(values: tuple[Any, ...]) -> Any:
    """``f(2, 3)`` or ``f((2, 3))``: the one tuple or list, else the values themselves."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return tuple(values[0])
    return values


def _raw(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _to_array(data: Any, dtype: Any = None) -> Any:
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.get_array_module(data)
    if xp is backend.numpy:
        xp = backend.array_module()
    if dtype is not None:
        return xp.asarray(data, dtype=backend.resolve_dtype(dtype))
    if isinstance(data, bool):
        return xp.asarray(data)
    if isinstance(data, numbers.Number):
        kind = "i" if isinstance(data, numbers.Integral) else "f"
    else:
        data = xp.asarray(data)
        kind = data.dtype.kind
    if kind == "f" or kind == "c":
        return xp.asarray(data, dtype=backend.get_default_dtype())
    if kind in "iub":
        return xp.asarray(data)
    raise TypeError(
        f"Cannot make a tensor from data of dtype {xp.asarray(data).dtype}: expected numbers "
        "(floats, integers or booleans)."
    )


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Create a tensor (like ``torch.tensor``): floating data gets the default dtype (float32)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` unchanged if it is a Tensor, else a constant tensor.

    With ``like``, a Python number or a non-Tensor array takes ``like``'s floating dtype, so
    ``x * 2`` and ``x + numpy_array`` keep ``x``'s dtype (no silent float64 upcast).
    """
    if isinstance(value, Tensor):
        return value
    if like is not None and backend.is_floating(like.data.dtype):
        xp = backend.get_array_module(like.data)
        return Tensor(xp.asarray(_raw(value), dtype=like.data.dtype))
    return Tensor(value)


def _filled(shape: Any, value: float, dtype: Any, requires_grad: bool) -> Tensor:
    d = backend.resolve_dtype(dtype)
    data = backend.array_module().full(shape, value, d)
    return Tensor(data, requires_grad=requires_grad, dtype=d)


def zeros(shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (default dtype float32)."""
    return _filled(shape, 0, dtype, requires_grad)


def ones(shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (default dtype float32)."""
    return _filled(shape, 1, dtype, requires_grad)


def full(shape: Any, value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``value`` (default dtype float32)."""
    return _filled(shape, value, dtype, requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype."""
    return _filled(t.shape, 0, t.dtype, requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype."""
    return _filled(t.shape, 1, t.dtype, requires_grad)


autograd._Tensor = Tensor  # make_result builds Tensors without importing per call

from . import ops  # noqa: E402 - ops import Tensor; operators look them up at call time
