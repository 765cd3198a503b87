"""Ops that move data without arithmetic: reshape, transpose, indexing, gather, joins, casts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import _numba, backend
from ..autograd import make_result, sum_to
from ..tensor import Tensor
from ._util import axis_or_dim, normalize_axes, normalize_axis, operand

__all__ = [
    "reshape", "transpose", "flatten", "expand_dims", "squeeze", "broadcast_to", "getitem",
    "gather", "concatenate", "stack", "astype", "pad",
]  # fmt: skip


def _nothing() -> None:
    """The replay of a result that is a view of its input: it follows the input by itself."""


def _is_view(y: Any, x: Any) -> bool:
    """Whether ``y`` (made from ``x`` by a reshape or an index) is a view of ``x``'s memory,
    not a copy (NumPy and CuPy point a view's ``base`` at the array owning the memory)."""
    base = y.base
    return base is not None and (base is x or base is x.base)


def _copy_replay(y: Any, source: Any) -> Any:
    """A replay refilling ``y`` (a copy made from current values) with ``source()``."""

    def replay() -> None:
        y[...] = source()

    return replay


def reshape(x: Any, shape: Sequence[int] | int) -> Tensor:
    """The same values in a new shape (one axis may be -1, inferred)."""
    x = operand(x)
    in_shape = x.data.shape
    try:
        data = x.data.reshape(shape)
    except ValueError:
        target = tuple(shape) if not isinstance(shape, int) else (shape,)
        known = [n for n in target if n != -1]
        count = f" ({math.prod(known)} elements)" if len(known) == len(target) else ""
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.numel()} elements) into "
            f"shape {target}{count}. The sizes must multiply to the same count; use -1 for "
            "one axis to infer it."
        ) from None
    X = x.data  # noqa: N806
    base = data.base  # (_is_view inlined: reshape is on every Flatten's path)
    if base is not None and (base is X or base is X.base):
        replay = _nothing
    else:  # a non-contiguous input is copied: the replay copies again

        def replay() -> None:
            backend.get_array_module(X).copyto(data, X.reshape(shape))

    return make_result(data, "reshape", (x,), lambda g: (g.reshape(in_shape),), replay)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None, like NumPy's ``.T``)."""
    x = operand(x)
    if axes is not None:
        axes = tuple(axes)
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of a tensor "
                f"of shape {x.shape}."
            )
        axes = tuple(a % x.ndim for a in axes)
        inverse: tuple[int, ...] | None = tuple(sorted(range(x.ndim), key=axes.__getitem__))
    else:
        inverse = None
    data = x.data.transpose(axes)
    return make_result(data, "transpose", (x,), lambda g: (g.transpose(inverse),), _nothing)


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes ``start_axis..end_axis`` into one (``torch.flatten``'s start_dim/end_dim)."""
    x = operand(x)
    if x.ndim == 0:
        normalize_axis("flatten", start_axis, 1)  # torch takes 0 or -1 here, as for 1-D
        normalize_axis("flatten", end_axis, 1)
        return reshape(x, (1,))
    start = normalize_axis("flatten", start_axis, x.ndim)  # out of range: an error, not a wrap
    end = normalize_axis("flatten", end_axis, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}.")
    s = x.shape
    merged = 1
    for n in s[start : end + 1]:
        merged *= n  # not -1: a zero-size tensor cannot infer it ((2, 0, 3, 4) -> (2, 0, 12))
    return reshape(x, s[:start] + (merged,) + s[end + 1 :])


def expand_dims(x: Any, axis: int) -> Tensor:
    """Insert a size-1 axis at ``axis`` (``torch.unsqueeze``)."""
    x = operand(x)
    shape = list(x.shape)
    shape.insert(normalize_axis("expand_dims", axis, x.ndim + 1), 1)
    return reshape(x, tuple(shape))


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove size-1 axes (all of them, or those in ``axis``)."""
    x = operand(x)
    axes = normalize_axes("squeeze", axis, x.ndim)
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1. Only "
                "size-1 axes can be removed (NumPy's rule; torch.squeeze would silently leave "
                "this one): check the shape, or squeeze another axis."
            )
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` repeated along new or size-1 axes to ``shape`` (a view; the gradient is summed)."""
    x = operand(x)
    xp = backend.get_array_module(x.data)
    in_shape = x.data.shape
    try:
        data = xp.broadcast_to(x.data, tuple(shape))
    except ValueError:
        raise ValueError(
            f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}."
        ) from None
    return make_result(data, "broadcast_to", (x,), lambda g: (sum_to(g, in_shape),), _nothing)


def _index_arrays(index: Any, xp: Any) -> tuple[Any, bool, str | None]:
    """Normalize an index: tensors/lists become arrays, masks become integer arrays.

    Returns the index, whether it is "advanced" (integer arrays, which may repeat positions
    and so need an accumulating scatter in the backward), and what of it was read from an
    array's values, fixed at the call where a replay reads index arrays by reference:
    ``"mask"`` (a boolean mask's positions, whose count may change), ``"value"`` (a 0-d
    integer array's value) or None.
    """
    parts = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    advanced = False
    read: str | None = None
    for p in parts:
        if isinstance(p, Tensor):
            p = p.data
        if isinstance(p, list):
            p = xp.asarray(p)
        if hasattr(p, "dtype") and getattr(p, "ndim", 0) >= 0 and not isinstance(p, (int, slice)):
            p = xp.asarray(p)
            if p.dtype.kind == "b":
                out.extend(p.nonzero())
                advanced, read = True, "mask"
                continue
            if p.dtype.kind not in "iu":
                raise IndexError(
                    f"getitem: index arrays must be integers or booleans; got dtype {p.dtype}."
                )
            if p.ndim == 0:
                if read is None and isinstance(p, xp.ndarray):  # (a NumPy scalar cannot change)
                    read = "value"
                p = int(p)
            else:
                advanced = True
        out.append(p)
    return (tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]), advanced, read


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with NumPy semantics: ints, slices, None, ``...``, integer and boolean arrays.

    The gradient scatters back into a zero array, adding up positions picked more than once.
    """
    x = operand(x)
    xp = backend.get_array_module(x.data)
    given = index
    index, advanced, read = _index_arrays(index, xp)
    X = x.data  # noqa: N806
    try:
        data = X[index]
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor shape {x.shape}).") from None
    shape, dtype = X.shape, X.dtype
    if isinstance(data, backend.numpy.generic):  # one element: a 0-d array, refilled in place
        data = xp.asarray(data)
    if read == "mask":  # its count of positions may differ next time: no replay
        replay = None
    elif read == "value":  # a 0-d index array: read again, the result copied again
        if _is_view(data, X):
            data = data.copy()

        def replay() -> None:
            nonlocal index  # the backward reads this cell
            index = _index_arrays(given, xp)[0]
            data[...] = X[index]

    elif not advanced and _is_view(data, X):
        replay = _nothing
    else:  # integer index arrays are held by reference: the replay reads their values now
        replay = _copy_replay(data, lambda: X[index])

    def backward(g: Any) -> tuple[Any]:
        if advanced and hasattr(index, "ndim") and index.ndim >= 1:  # rows by one int array
            return (_scatter_rows(xp, shape, index, g),)
        gx = xp.zeros(shape, dtype)
        if advanced:
            xp.add.at(gx, index, g)
        else:
            gx[index] = g
        return (gx,)

    return make_result(data, "getitem", (x,), backward, replay)


def _scatter_rows(xp: Any, shape: tuple[int, ...], rows: Any, g: Any) -> Any:
    """A zero array of ``shape`` with ``g``'s rows added at ``rows``, which may repeat (an
    Embedding lookup, ``x[labels]``).

    As one sparse-dense product, ``P @ g`` with ``P[rows[k], k] = 1``: about 25x faster than
    ``add.at``, which adds one element at a time, and the same sums (measured bit-identical).
    ``P`` is built as the transpose of a CSR matrix with one entry a row, whose arrays are
    known without sorting (a COO matrix had to be converted first: 0.35 ms against 0.2 for
    49k rows); the product still adds the rows in order of ``k``.
    """
    n_rows = shape[0]
    flat = rows.reshape(-1)
    n = flat.size
    if n == 0:
        return xp.zeros(shape, g.dtype)
    flat = xp.where(flat < 0, flat + n_rows, flat)  # negative indices, as NumPy reads them
    g2 = g.reshape(n, -1)
    kernels = _numba.kernels("sinapsi.ops._numba_kernels")
    if kernels is not None and _numba.applies(flat, g2) and g2.dtype.kind == "f":
        if flat.min() >= 0 and flat.max() < n_rows:  # the kernel does not check bounds
            out = xp.empty((n_rows, g2.shape[1]), g2.dtype)
            kernels.scatter_rows(flat, g2, out)  # the same sums, 4x faster (optional numba)
            return out.reshape(shape)
    index = xp.int32 if max(n, n_rows) < 2**31 - 1 else xp.int64
    picks_t = backend.sparse(xp).csr_matrix(
        (xp.ones(n, g.dtype), flat.astype(index, copy=False), xp.arange(n + 1, dtype=index)),
        shape=(n, n_rows),
    )
    return xp.asarray(picks_t.T @ g2).reshape(shape)


def gather(x: Any, axis: int, index: Any) -> Tensor:
    """Pick values along ``axis`` by ``index`` (``torch.gather``'s semantics).

    For a 2-D ``x`` and ``axis=1``: ``out[i, j] = x[i, index[i, j]]``. ``index`` has the same
    number of dimensions as ``x`` and is no larger than ``x`` on the other axes. The classic use
    is picking each sample's score for its true class.
    """
    x = operand(x)
    xp = backend.get_array_module(x.data)
    idx = index.data if isinstance(index, Tensor) else xp.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer array; got dtype {idx.dtype}.")
    if idx.ndim != x.ndim:
        raise ValueError(
            f"gather: index must have as many dimensions as the input; got index shape "
            f"{tuple(idx.shape)} for input shape {x.shape}."
        )
    ax = normalize_axis("gather", axis, x.ndim)
    if x.ndim == 0:  # torch.gather of a scalar: a 1-element axis, put back as 0-d
        return reshape(gather(reshape(x, (1,)), 0, idx.reshape(1)), ())
    for d in range(x.ndim):
        if d != ax and idx.shape[d] > x.shape[d]:
            raise ValueError(
                f"gather: index shape {tuple(idx.shape)} is larger than input shape {x.shape} "
                f"on axis {d}."
            )
    n = x.shape[ax]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(
            f"gather: index {bad} is out of range for axis {ax} of size {n} (input shape "
            f"{x.shape}); valid indices are 0 to {n - 1}."
        )
    grid = [
        xp.arange(m).reshape((1,) * d + (m,) + (1,) * (idx.ndim - d - 1))
        for d, m in enumerate(idx.shape)
    ]
    grid[ax] = idx
    full = tuple(grid)
    X = x.data  # noqa: N806
    data = X[full]
    shape, dtype = X.shape, X.dtype

    def backward(g: Any) -> tuple[Any]:
        gx = xp.zeros(shape, dtype)
        xp.add.at(gx, full, g)
        return (gx,)

    # idx is the caller's array (or a Tensor's): the replay picks by its values now
    return make_result(data, "gather", (x,), backward, _copy_replay(data, lambda: X[full]))


def _same_dtype(op: str, tensors: Sequence[Tensor]) -> None:
    dtypes = {t.data.dtype for t in tensors}
    if len(dtypes) > 1:
        raise TypeError(
            f"{op}: all tensors must have one dtype; got {sorted(str(d) for d in dtypes)}. "
            "Convert them with .astype(...) first."
        )


def concatenate(
    tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None
) -> Tensor:
    """Join tensors along an existing ``axis`` (``dim``; default 0), as ``torch.cat``."""
    ts = [operand(t) for t in tensors]
    if not ts:
        raise ValueError("concatenate: need at least one tensor.")
    if ts[0].ndim == 0:
        raise ValueError(
            "concatenate: 0-d tensors have no axis to join along (as in torch.cat); use stack "
            "to make a 1-d tensor of them."
        )
    axis = normalize_axis("concatenate", axis_or_dim("concatenate", axis, dim, 0), ts[0].ndim)
    _same_dtype("concatenate", ts)
    xp = backend.get_array_module(ts[0].data)
    try:
        data = xp.concatenate([t.data for t in ts], axis=axis)
    except ValueError:
        raise ValueError(
            f"concatenate: shapes {[t.shape for t in ts]} must match on every axis except "
            f"axis {axis}."
        ) from None
    ax = axis % data.ndim
    sizes = [t.shape[ax] for t in ts]
    cuts = [sum(sizes[: i + 1]) for i in range(len(sizes) - 1)]

    def backward(g: Any) -> tuple[Any, ...]:
        return tuple(xp.split(g, cuts, axis=ax))

    arrays = [t.data for t in ts]

    def replay() -> None:
        xp.concatenate(arrays, axis=ax, out=data)

    return make_result(data, "concatenate", tuple(ts), backward, replay)


def stack(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new ``axis`` (``dim``; default 0), as ``torch.stack``."""
    ts = [operand(t) for t in tensors]
    if not ts:
        raise ValueError("stack: need at least one tensor.")
    axis = normalize_axis("stack", axis_or_dim("stack", axis, dim, 0), ts[0].ndim + 1)
    _same_dtype("stack", ts)
    xp = backend.get_array_module(ts[0].data)
    try:
        data = xp.stack([t.data for t in ts], axis=axis)
    except ValueError:
        raise ValueError(f"stack: all shapes must be equal; got {[t.shape for t in ts]}.") from None
    ax = axis % data.ndim

    def backward(g: Any) -> tuple[Any, ...]:
        moved = xp.moveaxis(g, ax, 0)
        return tuple(moved[i] for i in range(len(ts)))

    arrays = [t.data for t in ts]

    def replay() -> None:
        xp.stack(arrays, axis=ax, out=data)

    return make_result(data, "stack", tuple(ts), backward, replay)


def astype(x: Any, dtype: Any) -> Tensor:
    """Cast to ``dtype``. Between floating dtypes the gradient is cast back; to an integer or
    boolean dtype the result is a constant (no gradient flows)."""
    x = operand(x)
    target = backend.resolve_dtype(dtype)
    X = x.data  # noqa: N806
    data = X.astype(target)  # an array, 0-d too

    def replay() -> None:
        backend.get_array_module(X).copyto(data, X, casting="unsafe")  # astype's cast

    if target.kind != "f":
        return make_result(data, "astype", (), lambda g: (), replay)
    source = X.dtype
    return make_result(data, "astype", (x,), lambda g: (g.astype(source),), replay)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_source(mode: str, n: int, before: int, after: int, xp: Any) -> Any:
    """For each position of the padded axis, the index of the input element it copies."""
    if mode == "circular":  # PyTorch crops first, then wraps around what is left
        lo, size = max(-before, 0), n - max(-before, 0) - max(-after, 0)
        return xp.arange(-max(before, 0), size + max(after, 0)) % size + lo
    q = xp.arange(-before, n + after)
    if mode == "reflect":
        q = xp.abs(q)
        q = xp.where(q > n - 1, 2 * (n - 1) - q, q)
    else:  # replicate
        q = xp.clip(q, 0, n - 1)
    return q


def pad(x: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """``torch.nn.functional.pad``: ``pad`` pairs (before, after) from the LAST axis backwards.

    ``pad=(1, 2)`` adds one element before and two after the last axis; ``(1, 1, 2, 2)`` also
    pads the axis before it. Negative widths crop. ``mode``: ``"constant"`` (``value``, any
    number of axes), ``"reflect"`` (mirror without repeating the edge), ``"replicate"`` (repeat
    the edge) or ``"circular"`` (wrap around); these three pad the last 1-3 axes of a batched or
    unbatched input, as in PyTorch.
    """
    import numbers  # here, not at the top: this function is the conv work's part of the file

    x = operand(x)
    widths = tuple(pad) if isinstance(pad, (tuple, list)) else pad
    if not isinstance(widths, tuple) or not all(
        isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in widths
    ):
        raise TypeError(f"pad: pad must be a sequence of ints; got {widths!r}. E.g. pad=(1, 1).")
    widths = tuple(int(p) for p in widths)
    if len(widths) % 2:
        raise ValueError(
            "pad: pad must have an even length (before, after) pairs from the last axis; got "
            f"{widths}."
        )
    if mode not in _PAD_MODES:
        raise ValueError(
            f"pad: mode must be one of {', '.join(map(repr, _PAD_MODES))}; got {mode!r}."
        )
    k = len(widths) // 2
    if k > x.ndim:
        raise ValueError(
            f"pad: pad has {k} (before, after) pairs but the input has only {x.ndim} axes "
            f"(shape {x.shape}). Give at most one pair per axis."
        )
    if mode != "constant" and (not 1 <= k <= 3 or x.ndim not in (k + 1, k + 2)):
        raise ValueError(
            f"pad: mode {mode!r} with {k} padded {'axes' if k != 1 else 'axis'} needs a "
            f"{k + 1}-D or {k + 2}-D input; got shape {x.shape}. Pad 1 to 3 trailing axes of a "
            "batched or unbatched input."
        )
    axes = [(x.ndim - 1 - i, widths[2 * i], widths[2 * i + 1]) for i in range(k)]
    for axis, before, after in axes:
        n = x.shape[axis]
        if n + before + after < 0 or (mode != "constant" and n + before + after <= 0):
            raise ValueError(
                f"pad: the pad {(before, after)} crops more than the axis of size {n} holds "
                f"(input shape {x.shape})."
            )
        if mode == "reflect" and max(before, after) >= n:
            raise ValueError(
                f"pad: mode 'reflect' needs each pad smaller than its axis; got pad "
                f"{(before, after)} for an axis of size {n} (input shape {x.shape})."
            )
        if mode == "circular" and max(before, after) > n:
            raise ValueError(
                f"pad: mode 'circular' needs each pad at most the size of its axis; got pad "
                f"{(before, after)} for an axis of size {n} (input shape {x.shape})."
            )
    xp = backend.get_array_module(x.data)
    if mode == "constant":
        shape = list(x.shape)
        src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
        for axis, before, after in axes:
            n = x.shape[axis]
            shape[axis] = n + before + after
            lo, hi = max(-before, 0), n - max(-after, 0)
            src[axis] = slice(lo, max(hi, lo))
            dst[axis] = slice(max(before, 0), max(before, 0) + max(hi - lo, 0))
        src_t, dst_t = tuple(src), tuple(dst)
        data = xp.full(tuple(shape), value, dtype=x.data.dtype)
        X = x.data  # noqa: N806
        data[dst_t] = X[src_t]

        def replay_constant() -> None:  # the border keeps its value
            data[dst_t] = X[src_t]

        def backward_constant(g: Any) -> tuple[Any]:
            out = xp.zeros(x.shape, g.dtype)
            out[src_t] = g[dst_t]
            return (out,)

        return make_result(data, "pad", (x,), backward_constant, replay_constant)

    sources = [(axis, _pad_source(mode, x.shape[axis], b, a, xp)) for axis, b, a in axes]
    X = x.data  # noqa: N806
    steps = []  # each axis's copy, kept for the replay to refill in turn
    data = X
    for axis, index in sources:
        data = xp.take(data, index, axis=axis)
        steps.append(data)

    def replay() -> None:
        previous = X
        for (axis, index), step in zip(sources, steps):
            xp.take(previous, index, axis=axis, out=step)
            previous = step

    def backward(g: Any) -> tuple[Any]:
        for axis, index in reversed(sources):  # each axis: a one-hot matrix sums the copies
            onehot = xp.zeros((index.shape[0], x.shape[axis]), g.dtype)
            onehot[xp.arange(index.shape[0]), index] = 1
            g = xp.moveaxis(xp.moveaxis(g, axis, -1) @ onehot, -1, axis)
        return (g,)

    return make_result(data, "pad", (x,), backward, replay)
