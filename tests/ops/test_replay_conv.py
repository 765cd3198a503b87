"""The replays of conv2d, conv1d and the pooling ops (what sinapsi.capture runs): bit for bit
the eager result and gradients after new values are written into the inputs, on the NumPy
paths and on the numba kernels (the ``kernels`` fixture runs each test both ways)."""

import numpy as np
import pytest

from sinapsi import ops
from sinapsi.autograd import _mode, make_result, no_grad
from sinapsi.tensor import Tensor
from sinapsi.testing import check_replay

DTYPES = [np.float32, np.float64]


def _normal(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- conv2d

CONV2D = [
    # (input shape, weight shape, keyword arguments)
    ((2, 3, 7, 6), (4, 3, 3, 3), {"stride": 1, "padding": 1}),
    ((1, 3, 9, 8), (5, 3, 3, 2), {"stride": (2, 3), "padding": (2, 1)}),  # odd sizes, stride
    ((2, 4, 6, 7), (6, 2, 2, 3), {"groups": 2, "dilation": (2, 1), "padding": (1, 2)}),
    ((1, 4, 5, 5), (4, 1, 3, 3), {"groups": 4, "padding": 1}),  # depthwise: one channel a group
    ((2, 3, 4, 5), (5, 3, 4, 5), {}),  # kernel == input size: a 1x1 output
    ((3, 6, 5, 4), (2, 6, 1, 1), {}),  # 1x1 kernel
    ((1, 1, 8, 7), (3, 1, 3, 3), {"padding": 2, "stride": 2}),  # one channel: transposed columns
    ((2, 1, 5, 5), (2, 1, 2, 2), {"padding": "same"}),  # one channel, odd extra pad after
    ((2, 3, 6, 6), (4, 3, 3, 3), {"padding": "same", "dilation": 2}),
]


@pytest.mark.parametrize("xs, ws, kw", CONV2D)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_replays(kernels, rng, xs, ws, kw, dtype, bias):
    x, w = _normal(rng, xs, dtype), _normal(rng, ws, dtype)
    if bias:
        b = _normal(rng, ws[:1], dtype)
        check_replay(lambda x, w, b: ops.conv2d(x, w, b, **kw), x, w, b)
    else:
        check_replay(lambda x, w: ops.conv2d(x, w, **kw), x, w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_of_a_channels_last_input_replays(kernels, rng, dtype):
    """The second conv reads the first's output, an NCHW view of channels-last memory."""
    x = _normal(rng, (2, 3, 7, 7), dtype)
    w1, w2 = _normal(rng, (4, 3, 3, 3), dtype), _normal(rng, (6, 2, 3, 3), dtype)
    b2 = _normal(rng, (6,), dtype)
    check_replay(
        lambda x, w1, w2, b2: ops.conv2d(ops.conv2d(x, w1, padding=1), w2, b2, 2, 1, 1, 2),
        x, w1, w2, b2,
    )  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_unbatched_and_empty_batch_conv2d_replay(kernels, rng, dtype):
    w, b = _normal(rng, (4, 3, 3, 3), dtype), _normal(rng, (4,), dtype)
    check_replay(lambda x, w, b: ops.conv2d(x, w, b, padding=1), _normal(rng, (3, 5, 6), dtype),
                 w, b)  # fmt: skip
    check_replay(lambda x, w, b: ops.conv2d(x, w, b), _normal(rng, (0, 3, 5, 6), dtype), w, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_with_frozen_weight_replays(kernels, rng, dtype):
    """Without a weight gradient the forward gives its columns back to the pool at once; the
    replay takes pooled ones. Also under no_grad (inference): the output alone."""
    x, w = _normal(rng, (2, 3, 6, 6), dtype), _normal(rng, (4, 3, 3, 3), dtype)
    frozen = Tensor(w, dtype=dtype)  # no gradient: a constant of the function below
    check_replay(lambda x: ops.conv2d(x, frozen, padding=1), x)
    check_replay(lambda x, b: ops.conv2d(x, frozen, b, padding=1), x, _normal(rng, (4,), dtype))
    check_replay(no_grad()(lambda x, w: ops.conv2d(x, w, padding=1)), x, w)
    one = Tensor(_normal(rng, (4, 1, 3, 3), dtype), dtype=dtype)  # one channel: (Kb, M) columns
    check_replay(lambda x: ops.conv2d(x, one, padding=1), _normal(rng, (2, 1, 6, 5), dtype))


def test_conv2d_replay_writes_the_recorded_arrays_in_place(rng):
    """The output array object is the recorded one, and a replay reallocates no columns."""
    x = Tensor(_normal(rng, (2, 3, 6, 6), np.float32), requires_grad=True)
    w = Tensor(_normal(rng, (4, 3, 3, 3), np.float32), requires_grad=True)
    previous, _mode.tape = _mode.tape, []
    try:
        y = ops.conv2d(x, w, padding=1)
        ((_, _, replay),) = _mode.tape
    finally:
        _mode.tape = previous
    data = y.data
    x.data[...] = _normal(rng, x.shape, np.float32)
    replay()
    assert y.data is data
    np.testing.assert_array_equal(data, ops.conv2d(x.data, w.data, padding=1).data)


# --------------------------------------------------------------------------- conv1d


@pytest.mark.parametrize(
    "xs, ws, kw",
    [
        ((2, 3, 9), (4, 3, 3), {"stride": 2, "padding": 1}),
        ((1, 4, 8), (4, 2, 3), {"groups": 2, "dilation": 2, "padding": "same"}),
        ((3, 7), (2, 3, 3), {}),  # unbatched
        ((2, 1, 6), (3, 1, 6), {}),  # one channel, kernel == length
    ],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv1d_replays(kernels, rng, xs, ws, kw, dtype):
    x, w, b = _normal(rng, xs, dtype), _normal(rng, ws, dtype), _normal(rng, ws[:1], dtype)
    check_replay(lambda x, w, b: ops.conv1d(x, w, b, **kw), x, w, b)


# --------------------------------------------------------------------------- max pooling

MAX_POOL = [
    # (input shape, keyword arguments)
    ((2, 3, 8, 6), {"kernel_size": 2}),  # the 2x2 path (numba kernel or three maxima)
    ((1, 2, 7, 9), {"kernel_size": 2}),  # 2x2 with an odd border row and column left out
    ((2, 3, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),  # -inf padding
    ((1, 1, 5, 6), {"kernel_size": (2, 3), "stride": 1, "dilation": (2, 1)}),
    ((2, 2, 6, 5), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((1, 3, 4, 4), {"kernel_size": 4}),  # kernel == input size
    ((2, 2, 5, 5), {"kernel_size": 1}),  # 1x1
    ((3, 5, 5), {"kernel_size": 3, "stride": 1, "padding": 1}),  # unbatched
    ((0, 2, 6, 6), {"kernel_size": 2}),  # an empty batch
    ((2, 0, 5, 5), {"kernel_size": 3, "padding": 1}),  # no channels
]


@pytest.mark.parametrize("xs, kw", MAX_POOL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_replays(kernels, rng, xs, kw, dtype):
    check_replay(lambda x: ops.max_pool2d(x, **kw), _normal(rng, xs, dtype))


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}])
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_replays_ties_and_nan(kernels, rng, kw, dtype):
    """The winners (the backward's argmax) are found again: new ties and NaN move them."""
    x = rng.integers(-2, 3, (2, 3, 6, 6)).astype(dtype)  # many ties
    new = rng.integers(-2, 3, x.shape).astype(dtype)
    new[0, 1, 2:4, 1:3] = np.nan
    check_replay(lambda x: ops.max_pool2d(x, **kw), x, new_inputs=[new])
    check_replay(lambda x: ops.max_pool2d(x, **kw), new, new_inputs=[x])


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}])
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_of_a_channels_last_input_replays(kernels, rng, kw, dtype):
    x, w = _normal(rng, (2, 3, 8, 8), dtype), _normal(rng, (5, 3, 3, 3), dtype)
    check_replay(lambda x, w: ops.max_pool2d(ops.conv2d(x, w, padding=1), **kw), x, w)


def _swap_hw(x):
    """A view op of the tests' own (H and W swapped): strided input, neither NCHW nor
    channels-last memory."""
    swap = (0, 1, 3, 2)
    return make_result(x.data.transpose(swap), "swap", (x,), lambda g: (g.transpose(swap),),
                       lambda: None)  # fmt: skip


@pytest.mark.parametrize("op", [
    lambda x: ops.max_pool2d(x, 2),  # the NumPy 2x2 path even with numba on
    lambda x: ops.max_pool2d(x, 3, 1, 1),
    lambda x: ops.avg_pool2d(x, 2, 1, 1),
    lambda x: ops.adaptive_avg_pool2d(x, (2, 3)),
    lambda x: ops.conv2d(x, Tensor(np.ones((2, 3, 3, 2)), dtype=np.float64), padding=1),
])  # fmt: skip
def test_ops_on_a_strided_input_replay(kernels, rng, op):
    check_replay(lambda x: op(_swap_hw(x)), _normal(rng, (2, 3, 7, 6), np.float64))


# --------------------------------------------------------------------------- average pooling

AVG_POOL = [
    ((2, 3, 8, 6), {"kernel_size": 2}),
    ((2, 3, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),  # include the pad
    ((2, 3, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((1, 2, 6, 5), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),  # uneven divisors
    ((2, 2, 5, 5), {"kernel_size": 2, "divisor_override": 3}),
    ((1, 3, 4, 4), {"kernel_size": 4}),  # kernel == input size
    ((3, 5, 5), {"kernel_size": 1}),  # unbatched, 1x1
    ((0, 2, 5, 5), {"kernel_size": 2, "padding": 1}),  # an empty batch
]


@pytest.mark.parametrize("xs, kw", AVG_POOL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool2d_replays(rng, xs, kw, dtype):
    check_replay(lambda x: ops.avg_pool2d(x, **kw), _normal(rng, xs, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool2d_of_a_channels_last_input_replays(rng, dtype):
    x, w = _normal(rng, (2, 3, 7, 7), dtype), _normal(rng, (4, 3, 2, 2), dtype)
    check_replay(
        lambda x, w: ops.avg_pool2d(ops.conv2d(x, w), 3, 2, 1, count_include_pad=False), x, w
    )


@pytest.mark.parametrize(
    "xs, size",
    [
        ((2, 3, 7, 9), 1),  # global average pooling
        ((2, 3, 7, 9), (3, 4)),  # overlapping windows
        ((1, 2, 5, 5), (None, 2)),
        ((3, 6, 4), (6, 4)),  # unbatched, output == input size
        ((2, 0, 4, 4), (2, 2)),  # no channels
    ],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_avg_pool2d_replays(rng, xs, size, dtype):
    check_replay(lambda x: ops.adaptive_avg_pool2d(x, size), _normal(rng, xs, dtype))


@pytest.mark.parametrize("size", [1, (2, 3)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_avg_pool2d_of_a_channels_last_input_replays(rng, size, dtype):
    x, w = _normal(rng, (2, 3, 9, 8), dtype), _normal(rng, (16, 3, 3, 3), dtype)
    check_replay(lambda x, w: ops.adaptive_avg_pool2d(ops.conv2d(x, w), size), x, w)


# --------------------------------------------------------------------------- converted inputs


@pytest.mark.parametrize(
    "op",
    [
        lambda x: ops.max_pool2d(x, 2),
        lambda x: ops.max_pool2d(x, 3, 1, 1),
        lambda x: ops.avg_pool2d(x, 2),
        lambda x: ops.adaptive_avg_pool2d(x, 1),
        lambda x: ops.adaptive_avg_pool2d(x, 3),
        lambda x: ops.conv2d(x, Tensor(np.ones((2, 3, 2, 2), np.float32)), padding=1),
    ],
)
def test_an_input_converted_from_the_argument_is_converted_again(kernels, rng, op):
    """An integer tensor, or a float64 array held by reference (default dtype float32), is
    cast by the op: the replay casts the argument's new values again."""
    ints = rng.integers(-5, 6, (2, 3, 6, 6))
    check_replay(op, ints)
    check_replay(op, rng.standard_normal((2, 3, 6, 6)), raw=(0,))


def test_conv2d_of_integer_weights_and_input_replays(rng):
    x, w = rng.integers(-3, 4, (2, 3, 5, 5)), rng.integers(-3, 4, (4, 3, 3, 3))
    b = rng.standard_normal(4).astype(np.float32)
    check_replay(lambda x, w, b: ops.conv2d(x, w, b), x, w, b, raw=(0, 1))


@pytest.mark.parametrize("recorded_with", [True, False])
def test_a_replay_after_the_numba_switch_flips_still_matches(rng, recorded_with):
    """Recorded with the kernels on (off), replayed with them off (on): the columns and the
    2x2 winners are the same either way, so output and gradients still match a fresh call."""
    from sinapsi import _numba

    if not _numba.available():
        pytest.skip("numba is not installed")

    def fn(x, w):
        return ops.max_pool2d(ops.conv2d(x, w, padding=1), 2)

    x = Tensor(_normal(rng, (2, 3, 8, 8), np.float32), requires_grad=True)
    w = Tensor(_normal(rng, (4, 3, 3, 3), np.float32), requires_grad=True)
    previous, _mode.tape = _mode.tape, []
    try:
        with _numba.use_kernels(recorded_with):
            y = fn(x, w)
        tape = _mode.tape
    finally:
        _mode.tape = previous
    with _numba.use_kernels(not recorded_with):
        x.data[...] = _normal(rng, x.shape, np.float32)
        w.data[...] = _normal(rng, w.shape, np.float32)
        for _, _, replay in tape:
            replay()
        g = _normal(rng, y.shape, np.float32)
        y.backward(g)
        x2, w2 = (Tensor(t.data.copy(), requires_grad=True) for t in (x, w))
        y2 = fn(x2, w2)
        y2.backward(g)
    np.testing.assert_array_equal(y.data, y2.data)
    np.testing.assert_array_equal(x.grad, x2.grad)
    np.testing.assert_array_equal(w.grad, w2.grad)
