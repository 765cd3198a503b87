"""Primitives kept whole for numerical stability or speed.

- softmax / log_softmax: composed from exp/sum/div, softmax overflows for large inputs and its
  log loses precision; shifting by the maximum and working in log space avoids both.
- binary cross-entropy, on logits and on probabilities: in :mod:`sinapsi.ops.bce`.
- batch_norm: normalization with batch statistics has a compact closed-form backward; composed
  from mean/var/sub/div it would be ~10 graph nodes and as many passes over memory.
- dropout: the mask is drawn once and reused by the backward.
- softmax_cross_entropy: the classifier's loss in one node; its gradient is simply
  ``softmax(z) - onehot(y)``, where the composed form takes four nodes and passes.
"""

from __future__ import annotations

from typing import Any

from .. import _numba, backend
from ..autograd import make_result
from ..tensor import Tensor
from ._util import axis_or_dim, floating, keep, max_kept, normalize_axis, operand, reused

__all__ = [
    "softmax", "log_softmax", "softmax_cross_entropy", "batch_norm", "dropout", "dropout2d",
]  # fmt: skip


def _array(xp: Any, value: Any) -> Any:
    """``value`` as an array: a NumPy scalar (what ufuncs and reductions return for 0-d or
    whole arrays) becomes a 0-d array of the same value and dtype, which a replay can refill
    in place."""
    return xp.asarray(value) if isinstance(value, backend.numpy.generic) else value


def _shifted(op: str, x: Tensor, axis: int) -> tuple[Any, Any, tuple[int, ...]]:
    """``x`` minus its maximum along ``axis`` (kept), and that axis as a tuple: ``()`` for a
    0-d tensor, which softmaxes to 1 as in PyTorch. A zero-length axis is shifted by 0."""
    xp = backend.get_array_module(x.data)
    ax = normalize_axis(op, axis, x.ndim)
    axes = (ax,) if x.ndim else ()
    return xp, x.data - max_kept(x.data, axes), axes


def softmax(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (``dim``; default: the last): probabilities
    that sum to 1. Over a zero-length axis the result is empty, as in PyTorch."""
    x = floating(x)
    xp, z, ax = _shifted("softmax", x, axis_or_dim("softmax", axis, dim, -1))
    e = xp.exp(z)
    total = e.sum(axis=ax, keepdims=True)
    y = e / total
    if not ax:  # a 0-d input gave NumPy scalars: 0-d arrays, which a replay refills
        z, e, total, y = (_array(xp, v) for v in (z, e, total, y))
    X = x.data  # noqa: N806

    def backward(g: Any) -> tuple[Any]:
        return (y * (g - (g * y).sum(axis=ax, keepdims=True)),)

    def replay() -> None:  # the forward's steps, into its own arrays
        if y.size:
            xp.subtract(X, max_kept(X, ax), out=z)
            xp.exp(z, out=e)
            xp.sum(e, axis=ax, keepdims=True, out=total)
            xp.divide(e, total, out=y)

    return make_result(y, "softmax", (x,), backward, replay)


def log_softmax(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis`` (``dim``; default: the last): log-probabilities,
    stable for any input size."""
    x = floating(x)
    xp, z, ax = _shifted("log_softmax", x, axis_or_dim("log_softmax", axis, dim, -1))
    with backend.errstate(xp, divide="ignore"):  # log(0) = -inf over a zero-length axis
        y = z - xp.log(xp.exp(z).sum(axis=ax, keepdims=True))
    if not ax:  # a 0-d input gave NumPy scalars: 0-d arrays, which a replay refills
        z, y = _array(xp, z), _array(xp, y)
    X = x.data  # noqa: N806

    def backward(g: Any) -> tuple[Any]:
        return (g - xp.exp(y) * g.sum(axis=ax, keepdims=True),)

    def replay() -> None:
        if y.size:  # (an empty y has nothing to refill)
            xp.subtract(X, max_kept(X, ax), out=z)
            xp.subtract(z, xp.log(xp.exp(z).sum(axis=ax, keepdims=True)), out=y)

    return make_result(y, "log_softmax", (x,), backward, replay)


def softmax_cross_entropy(
    logits: Any, labels: Any, reduction: str = "mean", ignore_index: int | None = None
) -> Tensor:
    """Cross-entropy of ``softmax(logits)`` (N, C) against integer ``labels`` (N,), fused.

    Per sample ``logsumexp(z_i) - z_i[y_i]``; ``reduction`` is ``"mean"``, ``"sum"`` or
    ``"none"``. The caller checks the labels (range, dtype); this is the fast path of
    :func:`sinapsi.nn.cross_entropy`. Gradient: ``(softmax(z) - onehot(y)) * g``.

    ``labels`` is held by reference: a replay reads its values then. ``ignore_index``: a
    label the caller found absent (so it took this path); a replay that finds it raises
    ``RuntimeError``, since the eager call would compute the loss another way.
    """
    z = operand(logits)
    xp = backend.get_array_module(z.data)
    Z = z.data  # noqa: N806
    n = Z.shape[0]
    rows = xp.arange(n)
    shifted = Z - Z.max(axis=1, keepdims=True)
    exp = xp.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    per_sample = xp.log(total[:, 0]) - shifted[rows, labels]
    scale = 1.0 / n if n else float("nan")  # the mean of no sample is 0 / 0, as in torch
    if reduction == "mean":
        data = xp.asarray(per_sample.sum() * scale)
    elif reduction == "sum":
        data = xp.asarray(per_sample.sum())
    else:
        data = per_sample

    def replay() -> None:
        if ignore_index is not None and bool((labels == ignore_index).any()):
            raise RuntimeError(
                f"softmax_cross_entropy: a label is now ignore_index={ignore_index}, which the "
                "captured step did not have; run this batch eagerly."
            )
        xp.subtract(Z, Z.max(axis=1, keepdims=True), out=shifted)
        xp.exp(shifted, out=exp)
        xp.sum(exp, axis=1, keepdims=True, out=total)
        xp.subtract(xp.log(total[:, 0]), shifted[rows, labels], out=per_sample)
        if reduction == "mean":
            data[...] = per_sample.sum() * scale
        elif reduction == "sum":
            data[...] = per_sample.sum()


    def backward(g: Any) -> tuple[Any]:
        grad = keep(xp.divide(exp, total, out=reused()))  # softmax
        grad[rows, labels] -= 1.0
        if reduction == "none":
            grad *= g[:, None]
        else:
            grad *= g * scale if reduction == "mean" else g
        return (grad,)

    return make_result(data, "softmax_cross_entropy", (z,), backward, replay)


def batch_norm(
    x: Any,
    weight: Any,
    bias: Any,
    running_mean: Any,
    running_var: Any,
    training: bool,
    momentum: float | None,
    eps: float,
    num_batches_tracked: Any = 0,
) -> Tensor:
    """Batch normalization over every axis but 1, per channel (axis 1): ``(N, C)``,
    ``(N, C, L)`` or ``(N, C, H, W)`` input (any strides; the output keeps the input's layout,
    so a channels-last image batch stays channels-last).

    Training: normalize with the batch mean and biased variance, and update the running
    statistics in place, PyTorch's way: ``running = (1 - momentum) * running + momentum * stat``
    with the *unbiased* batch variance; ``momentum=None`` is a cumulative average over
    ``num_batches_tracked``: an int already counting this batch, or the module's 0-d integer
    buffer, which the op counts up by one in place when it updates the running statistics (so
    a replay counts too). Evaluation: use the running statistics. ``weight``/``bias``
    (gamma/beta) may be None. The replay repeats the update of the running statistics.
    """
    x = operand(x)
    xp = backend.get_array_module(x.data)
    X = x.data  # noqa: N806
    if X.ndim not in (2, 3, 4):
        raise ValueError(
            f"batch_norm: expected input of shape (N, C), (N, C, L) or (N, C, H, W); got shape "
            f"{x.shape}."
        )
    axes = (0, *range(2, X.ndim))
    shape = (1, -1) + (1,) * (X.ndim - 2)
    letters = "ijkl"[: X.ndim]
    pairs = f"{letters},{letters}->j"  # per-channel sum of a product
    n = X.size // X.shape[1]
    if training and n < 2:
        raise ValueError(
            f"batch_norm: training needs more than 1 value per channel to compute a "
            f"variance; got input shape {x.shape}. Use a batch of at least 2 samples, "
            "or call model.eval() for single-sample inference."
        )
    kernels = _kernels_for(X)
    if kernels is not None:
        return _batch_norm_fused(
            kernels, x, weight, bias, running_mean, running_var, training, momentum, eps,
            num_batches_tracked,
        )  # fmt: skip
    # Few passes over memory and two new arrays (x_hat and out) forward, one backward: the
    # per-channel sums of products are einsum reductions, the rest is done in place.
    if training:
        mean = X.sum(axis=axes) * (1.0 / n)
        x_hat = X - mean.reshape(shape)
        var = xp.einsum(pairs, x_hat, x_hat) * (1.0 / n)  # biased, as normalization uses
        if running_mean is not None:
            _update_running(running_mean, running_var, mean, var, n, momentum,
                            _count(num_batches_tracked))  # fmt: skip
    else:
        mean, var = running_mean, running_var
        x_hat = X - mean.reshape(shape)
    inv_std = 1.0 / xp.sqrt(var + eps)
    x_hat *= inv_std.reshape(shape)
    gamma = None if weight is None else (weight.data if isinstance(weight, Tensor) else weight)
    beta = None if bias is None else (bias.data if isinstance(bias, Tensor) else bias)
    out = (
        x_hat
        if gamma is None and beta is None
        else (x_hat * gamma.reshape(shape) if gamma is not None else x_hat.copy())
    )
    if beta is not None:
        out += beta.reshape(shape)
    parents = tuple(t for t in (x, weight, bias) if isinstance(t, Tensor))

    def replay() -> None:  # the forward's steps into its arrays, the running update included
        if training:
            mean = X.sum(axis=axes) * (1.0 / n)
            xp.subtract(X, mean.reshape(shape), out=x_hat)
            var = xp.einsum(pairs, x_hat, x_hat) * (1.0 / n)
            if running_mean is not None:
                _update_running(running_mean, running_var, mean, var, n, momentum,
                                _count(num_batches_tracked))  # fmt: skip
        else:
            var = running_var
            xp.subtract(X, running_mean.reshape(shape), out=x_hat)
        xp.divide(1.0, xp.sqrt(var + eps), out=inv_std)
        xp.multiply(x_hat, inv_std.reshape(shape), out=x_hat)  # the forward's *=
        if out is not x_hat:
            if gamma is not None:
                xp.multiply(x_hat, gamma.reshape(shape), out=out)
            else:
                xp.copyto(out, x_hat)
        if beta is not None:
            xp.add(out, beta.reshape(shape), out=out)

    def backward(g: Any) -> tuple[Any, ...]:
        g_sum = g.sum(axis=axes)  # = the bias gradient
        gx_sum = xp.einsum(pairs, g, x_hat)  # = the weight gradient
        scale = inv_std if gamma is None else gamma * inv_std
        grads: list[Any] = []
        if not x.requires_grad:
            grads.append(None)
        elif training:  # the batch statistics depend on x too:
            # dx = gamma * inv_std * (g - mean(g) - x_hat * mean(g * x_hat))
            coef = (gx_sum * (-1.0 / n)).reshape(shape)
            dx = keep(xp.multiply(x_hat, coef, out=reused()))  # x_hat * coef
            dx += g
            dx -= (g_sum * (1.0 / n)).reshape(shape)
            dx *= scale.reshape(shape)
            grads.append(dx)
        else:
            grads.append(g * scale.reshape(shape))
        if isinstance(weight, Tensor):
            grads.append(gx_sum if weight.requires_grad else None)
        if isinstance(bias, Tensor):
            grads.append(g_sum if bias.requires_grad else None)
        return tuple(grads)

    return make_result(out, "batch_norm", parents, backward, replay)


def _count(num_batches_tracked: Any) -> int:
    """The count of batches, this one included: an int as given, or a 0-d integer buffer
    counted up by one in place first (the module's ``num_batches_tracked``)."""
    if isinstance(num_batches_tracked, (int, backend.numpy.integer)):
        return int(num_batches_tracked)
    num_batches_tracked += 1  # in place: the caller's array
    return int(num_batches_tracked)


def _update_running(
    running_mean: Any, running_var: Any, mean: Any, var: Any, n: int, momentum: float | None,
    num_batches_tracked: int, kern: Any = None,
) -> None:  # fmt: skip
    """PyTorch's running statistics, in place: the unbiased batch variance; with the numba
    kernel ``kern`` in one call where the arrays allow it."""
    factor = momentum if momentum is not None else 1.0 / max(num_batches_tracked, 1)
    if kern is not None and _numba.applies(running_mean, running_var, mean, var):
        kern.bn_running(running_mean, running_var, mean, var, factor, factor * n / (n - 1))
        return
    running_mean *= 1.0 - factor
    running_mean += factor * mean
    running_var *= 1.0 - factor
    running_var += (factor * n / (n - 1)) * var


def _channels_last(a: Any) -> Any:
    """``a`` (N, C, ...) with the channel axis moved last: (N, ..., C), a view."""
    return a.transpose(0, *range(2, a.ndim), 1)


def _kernels_for(X: Any) -> Any:  # noqa: N803
    """The numba kernels for a float32/float64 NumPy array whose memory they read: C-contiguous
    or channels-last; else None (then the NumPy path runs)."""
    np_ = backend.numpy
    if type(X) is not np_.ndarray or X.dtype not in (np_.float32, np_.float64) or not X.size:
        return None
    if not (X.flags.c_contiguous or _channels_last(X).flags.c_contiguous):
        return None
    return _numba.kernels("sinapsi.ops._pool_kernels")


def _batch_norm_fused(
    kern: Any, x: Tensor, weight: Any, bias: Any, running_mean: Any, running_var: Any,
    training: bool, momentum: float | None, eps: float, num_batches_tracked: int,
) -> Tensor:  # fmt: skip
    """:func:`batch_norm` with the numba kernels: two passes forward (statistics, output),
    three backward (two sums, dx), x_hat recomputed rather than kept. (N, C) input and
    channels-last memory are seen as (M, C) rows, other C-contiguous input as (N, C, L)
    planes; the output and dx keep the input's layout."""
    np_ = backend.numpy
    X = x.data  # noqa: N806
    dtype, nb, c = X.dtype, X.shape[0], X.shape[1]
    n = X.size // c
    rows = n == nb or not X.flags.c_contiguous  # (N, C) or channels-last (see _kernels_for)
    last = _channels_last(X).shape
    back = (0, X.ndim - 1, *range(1, X.ndim - 1))  # undoes _channels_last

    def view(a: Any) -> Any:
        """``a`` (X's shape) in X's layout as the kernels' rows or planes (copied only when
        its layout differs, as a gradient's may)."""
        if rows:
            return np_.ascontiguousarray(_channels_last(a), dtype=dtype).reshape(-1, c)
        return np_.ascontiguousarray(a, dtype=dtype).reshape(nb, c, -1)

    def new() -> tuple[Any, Any]:
        """A new array of X's shape in X's layout, and its kernel view."""
        if rows:
            a = np_.empty(last, dtype)
            return a.transpose(back), a.reshape(-1, c)
        a = np_.empty(X.shape, dtype)
        return a, a.reshape(nb, c, -1)

    def vector(v: Any) -> Any:
        return np_.ascontiguousarray(v.data if isinstance(v, Tensor) else v, dtype=dtype)

    V = view(X)  # noqa: N806 - a view of X (its layout was checked)
    stats = kern.bn_stats_rows if rows else kern.bn_stats_planes
    apply = kern.bn_apply_rows if rows else kern.bn_apply_planes
    if training:  # float64 sums, stored in X's dtype
        mean, var = np_.empty(c, dtype), np_.empty(c, dtype)
        stats(V, mean, var)
        if running_mean is not None:
            _update_running(running_mean, running_var, mean, var, n, momentum,
                            _count(num_batches_tracked), kern)  # fmt: skip
    else:
        mean, var = vector(running_mean), vector(running_var)
    inv_std = vector(1.0 / np_.sqrt(var + eps))
    scale = inv_std if weight is None else vector(vector(weight) * inv_std)
    shift = np_.zeros(c, dtype) if bias is None else vector(bias)
    out, out_view = new()
    apply(V, mean, scale, shift, out_view)

    def replay() -> None:  # the forward's steps into its arrays, the running update included
        nonlocal mean, var, shift
        if training:
            stats(V, mean, var)
            if running_mean is not None:
                _update_running(running_mean, running_var, mean, var, n, momentum,
                                _count(num_batches_tracked), kern)  # fmt: skip
        else:
            mean, var = vector(running_mean), vector(running_var)
        np_.divide(1.0, np_.sqrt(var + eps), out=inv_std)
        if weight is not None:
            np_.multiply(vector(weight), inv_std, out=scale)
        if bias is not None:
            shift = vector(bias)
        apply(V, mean, scale, shift, out_view)

    parents = tuple(t for t in (x, weight, bias) if isinstance(t, Tensor))
    weight_grad = isinstance(weight, Tensor) and weight.requires_grad
    bias_grad = isinstance(bias, Tensor) and bias.requires_grad

    def backward(g: Any) -> tuple[Any, ...]:
        G = view(g)  # noqa: N806
        g_sum = gx_centered = None
        if weight_grad or bias_grad or (training and x.requires_grad):
            g_sum, gx_centered = np_.empty(c), np_.empty(c)
            sums = kern.bn_grad_sums_rows if rows else kern.bn_grad_sums_planes
            sums(V, G, mean, g_sum, gx_centered)
        grads: list[Any] = []
        if not x.requires_grad:
            grads.append(None)
        elif training:  # dx = scale * (g - mean(g) - x_hat * mean(g * x_hat))
            dx = reused()  # a captured step's array, in X's layout: its kernel view is a view
            dx, dx_view = new() if dx is None else (dx, view(dx))
            if not np_.may_share_memory(dx, dx_view):  # (a layout that needed a copy)
                dx, dx_view = new()
            keep(dx)
            dx_of = kern.bn_dx_rows if rows else kern.bn_dx_planes
            dx_of(V, G, mean, g_sum, gx_centered, inv_std, scale, dx_view)
            grads.append(dx)
        else:
            grads.append(g * scale.reshape((1, -1) + (1,) * (X.ndim - 2)))
        if isinstance(weight, Tensor):
            # sum(g * x_hat), the weight's gradient
            grads.append((gx_centered * inv_std).astype(dtype) if weight_grad else None)
        if isinstance(bias, Tensor):
            grads.append(g_sum.astype(dtype) if bias_grad else None)
        return tuple(grads)

    return make_result(out, "batch_norm", parents, backward, replay)


def _dropout_replay(
    x: Any, rng: Any, p: float, draws: tuple[int, ...], mask: Any, data: Any
) -> Any:
    """The replay of a dropout: new draws from ``rng`` (the forward's, in float64), the mask
    rebuilt in place, ``data = x * mask``. Its draw buffers are made on its first call, so an
    eager step keeps nothing more alive."""
    xp = backend.get_array_module(x)
    np_ = backend.numpy
    buffers: list[Any] = []

    def replay() -> None:
        if p < 1.0:  # p = 1 drew nothing: the mask stays 0
            if not buffers:
                buffers.extend((np_.empty(draws, np_.float64), np_.empty(draws, bool)))
            drawn, keep = buffers
            rng.random(dtype=np_.float64, out=drawn)
            np_.greater_equal(drawn, p, out=keep)
            mask[...] = xp.asarray(keep).reshape(mask.shape)  # asarray(keep, dtype)'s cast
            xp.multiply(mask, 1.0 / (1.0 - p), out=mask)
        xp.multiply(x, mask, out=data)

    return replay


def dropout(x: Any, p: float, rng: Any, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``, so the expected value is unchanged and evaluation needs no rescaling.
    Identity when not training or ``p == 0``. ``rng`` is a ``numpy.random.Generator``."""
    x = operand(x)
    if not training or p == 0.0:
        return x
    xp = backend.get_array_module(x.data)
    if p >= 1.0:
        mask = xp.zeros_like(x.data)
    else:
        keep = rng.random(x.data.shape, dtype=backend.numpy.float64) >= p
        mask = _array(xp, xp.asarray(keep, dtype=x.data.dtype) * (1.0 / (1.0 - p)))
    data = _array(xp, x.data * mask)
    replay = _dropout_replay(x.data, rng, p, x.data.shape, mask, data)
    return make_result(data, "dropout", (x,), lambda g: (g * mask,), replay)


def dropout2d(x: Any, p: float, rng: Any, training: bool = True) -> Tensor:
    """Channel dropout (``torch.nn.functional.dropout2d``): zero whole channels of an
    (N, C, H, W) batch, or of one (C, H, W) image, each with probability ``p``, and scale the
    kept ones by ``1 / (1 - p)``.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    (:func:`dropout`) barely regularizes a conv layer; dropping a whole map does. The mask has
    shape (N, C, 1, 1) (or (C, 1, 1)), drawn from ``rng`` (a ``numpy.random.Generator``), and
    the product keeps the input's memory layout. Identity when not training or ``p == 0``.
    """
    x = floating(x)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1]; got p={p!r}.")
    if x.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected input of shape (N, C, H, W) or (C, H, W); got shape "
            f"{x.shape}. Use dropout for other shapes."
        )
    if not training or p == 0.0:
        return x
    xp = backend.get_array_module(x.data)
    channels = x.shape[:-2]
    if p >= 1.0:
        mask = xp.zeros((*channels, 1, 1), x.data.dtype)
    else:
        keep = rng.random(channels, dtype=backend.numpy.float64) >= p
        mask = xp.asarray(keep, dtype=x.data.dtype).reshape(*channels, 1, 1) * (1.0 / (1.0 - p))
    data = x.data * mask
    replay = _dropout_replay(x.data, rng, p, channels, mask, data)
    return make_result(data, "dropout2d", (x,), lambda g: (g * mask,), replay)
