"""The replays of the matrix products and the shape ops (sinapsi.capture replays them):
check_replay over awkward shapes, float32 and float64."""

import numpy as np
import pytest

from sinapsi import ops
from sinapsi.testing import check_replay

DTYPES = (np.float32, np.float64)


def _draw(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "sa, sb",
    [
        ((3, 4), (4, 5)),  # the 2-D fast path
        ((1, 4), (4, 1)),  # batch 1
        ((0, 4), (4, 2)),  # no rows
        ((4,), (4,)),  # vector . vector: a 0-d result
        ((4,), (4, 3)),
        ((2, 3, 4), (4,)),
        ((2, 3, 4), (4, 5)),  # batched, broadcast one way
        ((3, 4), (2, 4, 5)),  # ... and the other
        ((2, 1, 3, 4), (5, 4, 2)),  # batch axes broadcast both ways
    ],
)
def test_matmul_replays(sa, sb, dtype):
    check_replay(ops.matmul, _draw(sa, dtype), _draw(sb, dtype, 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_and_linear_replay_non_contiguous_operands(dtype):
    # transposed views and strided slices: the replay multiplies the same layouts
    a, b = _draw((5, 3), dtype), _draw((4, 5), dtype, 1)
    check_replay(lambda x, y: ops.matmul(ops.transpose(x), ops.transpose(y)), a, b)
    check_replay(lambda x, y: ops.matmul(ops.getitem(x, slice(None, None, 2)), y), a,
                 _draw((3, 2), dtype, 2))  # fmt: skip
    check_replay(lambda x, w: ops.linear(ops.transpose(x), w), _draw((4, 6), dtype),
                 _draw((3, 4), dtype, 3))  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "sx, bias", [((6, 4), True), ((1, 4), True), ((0, 4), True), ((4,), True),
                 ((2, 3, 4), True), ((6, 4), False)],
)  # fmt: skip
def test_linear_replays(sx, bias, dtype):
    inputs = [_draw(sx, dtype), _draw((3, 4), dtype, 1)] + ([_draw((3,), dtype, 2)] * bias)
    check_replay(ops.linear, *inputs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape_flatten_squeeze_expand_replay(dtype):
    x = _draw((2, 3, 4), dtype)
    check_replay(lambda t: ops.reshape(t, (4, -1)), x)
    check_replay(lambda t: ops.reshape(t, ()), _draw((1, 1), dtype))
    check_replay(lambda t: ops.reshape(t, (0, 5)), _draw((5, 0), dtype))
    check_replay(lambda t: ops.flatten(t, 1), x)
    check_replay(lambda t: ops.flatten(t), np.asarray(2.0, dtype))  # 0-d -> (1,)
    check_replay(lambda t: ops.squeeze(ops.expand_dims(t, 1)), x)
    check_replay(lambda t: ops.squeeze(t), _draw((1, 3, 1), dtype))


def test_a_reshape_that_copies_replays_by_copying():
    # reshape of a transposed (non-contiguous) array is a copy, refilled by the replay
    check_replay(lambda t: ops.reshape(ops.transpose(t), (-1,)) * 1.0, _draw((3, 4), np.float32))
    check_replay(lambda t: ops.flatten(ops.transpose(t, (0, 2, 1)), 1), _draw((2, 3, 4), "f8"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose_and_broadcast_to_replay(dtype):
    check_replay(lambda t: ops.transpose(t, (2, 0, 1)), _draw((2, 3, 4), dtype))
    check_replay(ops.transpose, np.asarray(1.5, dtype))
    check_replay(lambda t: ops.broadcast_to(t, (2, 3, 4)), _draw((3, 1), dtype))
    check_replay(lambda t: ops.broadcast_to(t, (0, 3)), _draw((3,), dtype))
    check_replay(lambda t: ops.broadcast_to(t, (2, 2)), np.asarray(0.5, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_getitem_basic_replays(dtype):
    x = _draw((4, 5), dtype)
    check_replay(lambda t: ops.getitem(t, (slice(1, 3), slice(None, None, 2))), x)
    check_replay(lambda t: ops.getitem(t, (2, 3)), x)  # one element: a 0-d array
    check_replay(lambda t: ops.getitem(t, (None, Ellipsis, 1)), x)
    check_replay(lambda t: ops.getitem(t, ()), np.asarray(3.0, dtype))
    check_replay(lambda t: ops.getitem(t, slice(0, 0)), x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_getitem_with_index_arrays_replays_their_current_values(dtype):
    x = _draw((5, 3), dtype)
    rows = np.array([4, 0, 4, 2, -1])
    # the rows are passed raw: check_replay permutes them in place, the replay must follow
    check_replay(lambda t, r: ops.getitem(t, r), x, rows, raw=[1])
    check_replay(lambda t, r: ops.getitem(t, (r, 1)), x, rows, raw=[1])
    cols = np.array([[0, 2], [1, 1]])
    check_replay(lambda t, c: ops.getitem(t, (slice(None), c)), x, cols, raw=[1])
    check_replay(lambda t, r: ops.getitem(t, r), x, np.zeros(0, np.int64), raw=[1])
    # a 0-d index array: its value is read again by the replay
    check_replay(lambda t, r: ops.getitem(t, (slice(None), r)), x, np.array(2), raw=[1],
                 new_inputs=[x + 1, np.array(0)])  # fmt: skip
    check_replay(lambda t, r: ops.getitem(t, r), x, np.array(-1), raw=[1],
                 new_inputs=[x - 1, np.array(3)])  # fmt: skip


def test_getitem_with_a_mask_has_no_replay():
    # the positions a boolean mask selects are read from its values at the call
    with pytest.raises(AssertionError, match="'getitem' has no replay"):
        check_replay(lambda t, m: ops.getitem(t, m), _draw((4,), "f8"),
                     np.array([True, False, True, True]), raw=[1])  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_replays_its_index(dtype):
    x = _draw((3, 4), dtype)
    idx = np.array([[0, 3, 3], [1, 1, 0], [2, 0, 1]])
    check_replay(lambda t, i: ops.gather(t, 1, i), x, idx, raw=[1])
    check_replay(lambda t, i: ops.gather(t, 0, i), x, np.array([[2, 0, 1, 1]]), raw=[1])
    check_replay(lambda t, i: ops.gather(t, 0, i), np.asarray(2.0, dtype), np.array(0), raw=[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_concatenate_and_stack_replay(dtype):
    a, b = _draw((2, 3), dtype), _draw((1, 3), dtype, 1)
    check_replay(lambda s, t: ops.concatenate([s, t]), a, b)
    check_replay(lambda s, t: ops.concatenate([s, t], axis=1), a, _draw((2, 0), dtype))
    check_replay(lambda s, t: ops.stack([s, t], axis=1), a, _draw((2, 3), dtype, 2))
    check_replay(lambda s, t: ops.stack([s, t]), np.asarray(1.0, dtype), np.asarray(2.0, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_astype_replays(dtype):
    other = np.float64 if dtype == np.float32 else np.float32
    check_replay(lambda t: ops.astype(t, other), _draw((3, 2), dtype))
    check_replay(lambda t: ops.astype(t, dtype), _draw((3, 2), dtype))  # a copy
    check_replay(lambda t: ops.astype(t, other), np.asarray(1.25, dtype))
    # to an integer dtype: a constant, which still replays (times 1.0 makes a differentiable out)
    check_replay(lambda t: ops.astype(t * 3.0, "int64").astype(dtype) + t, _draw((4,), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_replays(mode, dtype):
    x = _draw((2, 3, 4), dtype)
    check_replay(lambda t: ops.pad(t, (1, 2), mode=mode), x)
    check_replay(lambda t: ops.pad(t, (2, 1, 1, 0), mode=mode), x)  # two axes
    if mode == "constant":
        check_replay(lambda t: ops.pad(t, (-1, 1, 0, 0, 1, 1), value=0.5), x)  # crop, 3 axes
        check_replay(lambda t: ops.pad(t, (1, 1)), _draw((0, 3), dtype))
