"""Every reduction replays bit for bit (testing.check_replay): all axes, one axis, several,
keepdims, 0-d and zero-size inputs, batch 1, float32 and float64, non-contiguous inputs, ties
and rows of -inf (the values the backward and logsumexp's shift branch on)."""

import numpy as np
import pytest

from sinapsi import ops
from sinapsi.ops._util import wrap
from sinapsi.testing import check_replay

DTYPES = ["float32", "float64"]
SHAPES = [(3, 4), (), (0, 3), (1, 5), (2, 3, 4)]


def _axes(shape):
    axes = [None] + list(range(-len(shape), 0))[-2:]
    if len(shape) == 3:
        axes.append((0, 2))
    return axes


def _ops(shape, axis, keepdims):
    """The reductions that apply to this shape and axis (an empty axis has no max/argmax)."""
    empty = 0 in shape
    reduced = [shape[a] for a in (range(len(shape)) if axis is None else np.atleast_1d(axis))]
    n = int(np.prod(reduced))
    out = {
        "sum": lambda x: ops.sum(x, axis, keepdims),
        "mean": lambda x: ops.mean(x, axis, keepdims),
        "logsumexp": lambda x: ops.logsumexp(x, axis, keepdims),
        "dim_keepdim": lambda x: ops.sum(x, dim=axis, keepdim=keepdims),
    }
    if not empty:
        out["max"] = lambda x: ops.max(x, axis, keepdims)
        out["min"] = lambda x: ops.min(x, axis, keepdims)
        if axis is None or isinstance(axis, int):
            out["argmax"] = lambda x: ops.argmax(x, axis, keepdims)
            out["argmin"] = lambda x: ops.argmin(x, axis, keepdims)
    if n > 1:
        out["var"] = lambda x: ops.var(x, axis, keepdims)
        out["var_ddof1"] = lambda x: ops.var(x, axis, keepdims, ddof=1)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_reductions_replay(rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    for axis in _axes(shape):
        for keepdims in (False, True):
            for name, fn in _ops(shape, axis, keepdims).items():
                try:
                    check_replay(fn, x, seed=len(name))
                except AssertionError as e:
                    raise AssertionError(f"{name}(axis={axis}, keepdims={keepdims}): {e}") from None


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_replay(rng, dtype):
    """A transposed (F-ordered) input: the reduction's result and the order it sums in are
    NumPy's choice for that layout; the replay reduces into the very same result array."""
    x = rng.standard_normal((5, 6, 4)).astype(dtype)
    for axis in (None, 0, 1, (0, 2)):
        for keepdims in (False, True):
            for name, fn in _ops((4, 6, 5), axis, keepdims).items():
                try:
                    check_replay(lambda x, fn=fn: fn(wrap(x.data.T)) * 1.0, x)
                    check_replay(lambda x, fn=fn: fn(wrap(x.data[:, ::2])), x)
                except AssertionError as e:
                    raise AssertionError(f"{name}(axis={axis}, keepdims={keepdims}): {e}") from None


def test_ties_and_infinite_rows_replay():
    """New values with ties (max/min share the gradient) and with rows of -inf and +inf
    (logsumexp's shift is 0 there): the replay re-evaluates what depends on values."""
    x = np.arange(12, dtype="float64").reshape(3, 4)
    tied = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, 0.0, 5.0]])
    inf = np.inf
    infinite = np.array([[-inf, -inf, -inf, -inf], [1.0, inf, 0.0, 2.0], [0.5, -inf, 1.0, 0.0]])
    for fn in (lambda x: ops.max(x, 1), lambda x: ops.min(x), lambda x: ops.argmax(x, 1)):
        check_replay(fn, x, new_inputs=[tied])
    with np.errstate(invalid="ignore"):  # inf - inf in the backward of the +inf row
        check_replay(lambda x: ops.logsumexp(x, 1), x, new_inputs=[infinite], rounds=1)


def test_integer_inputs_replay():
    """sum keeps integers; mean, var and logsumexp convert them to the default float, and the
    replay converts the current values again."""
    i = np.arange(-6, 6).reshape(3, 4)
    for fn in (
        ops.sum,
        lambda i: ops.mean(i, 1),
        lambda i: ops.var(i, 0, ddof=1),
        lambda i: ops.logsumexp(i, 1),
        lambda i: ops.argmax(i, 1),
        lambda i: ops.max(i, 0),
    ):
        check_replay(fn, i)
