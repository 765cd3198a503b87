"""relu's fast paths (the numba kernels, NumPy's maximum against a shared zero buffer, chunk by
chunk for a large input): the same bits as ``maximum(x, 0)`` and ``g * (y > 0)`` on special
values, every dtype, eager and replayed, and the kernels really taken when numba is on."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import _numba, autograd, ops
from sinapsi.ops import activations
from sinapsi.testing import check_replay

SPECIAL = [np.nan, -np.nan, -np.inf, np.inf, -0.0, 0.0, -1.5, 2.5, -1e-30, 1e-30]


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def kernels(request):
    with _numba.use_kernels(request.param):
        yield request.param


@pytest.fixture
def small_chunks(monkeypatch):
    """A zero buffer of 16 elements and eager calls above 8 elements on the fast path: the
    chunked loop and the small/large eager split on small, fast arrays."""
    monkeypatch.setattr(activations, "_ZERO_CHUNK", 16)
    monkeypatch.setattr(activations, "_SMALL", 8)
    monkeypatch.setattr(activations, "_zero_chunks", {})


def special(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    flat = a.reshape(-1)
    flat[rng.permutation(flat.size)[: min(len(SPECIAL), flat.size)]] = SPECIAL[: flat.size]
    return a.astype(dtype)


def bits(a):
    a = np.asarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a


def assert_same_bits(actual, expected):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_array_equal(bits(actual), bits(expected))


def recorded_relu(x):
    """relu(x) with its replay (as sinapsi.capture records it)."""
    mode = autograd._mode
    previous, mode.tape = mode.tape, []
    try:
        out = ops.relu(x)
        return out, mode.tape[-1][2]
    finally:
        mode.tape = previous


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(10, 8), (3, 5, 7), (), (0, 4), (40,)])
def test_relu_has_maximums_bits_eager_replayed_and_backward(shape, dtype, kernels, small_chunks):
    data = special(shape, dtype)
    x = sn.Tensor(data.copy(), dtype=dtype, requires_grad=True)
    out, replay = recorded_relu(x)
    assert_same_bits(out.data, np.maximum(data, 0))
    assert not np.signbit(out.data[out.data == 0]).any()  # -0.0 -> +0.0, as maximum
    x.data[...] = special(shape, dtype, seed=1)
    replay()
    assert_same_bits(out.data, np.maximum(x.data, 0))
    g = special(shape, dtype, seed=2)  # NaN, inf and -0.0 gradients too
    with np.errstate(invalid="ignore"):
        expected = g * (out.data > 0)
        out.backward(g)  # (NumPy's inf * 0 warns)
    assert_same_bits(x.grad, expected)


def test_relu_gradient_at_zero_is_zero_and_nan_passes_through(kernels):
    x = sn.Tensor(np.array([-1.0, 0.0, -0.0, 2.0, np.nan, -np.inf], np.float32), requires_grad=True)
    out = ops.relu(x)
    np.testing.assert_array_equal(out.data, [0, 0, 0, 2, np.nan, 0])
    out.backward(np.ones(6, np.float32))
    np.testing.assert_array_equal(x.grad, [0, 0, 0, 1, 0, 0])


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_])
def test_relu_of_integers_eager_and_replayed(dtype, kernels, small_chunks):
    data = np.arange(-20, 20).reshape(4, 10).astype(dtype)
    x = sn.Tensor(data.copy(), dtype=dtype)
    out, replay = recorded_relu(x)
    assert_same_bits(out.data, np.maximum(data, dtype(0)))
    x.data[...] = data[::-1]
    replay()
    assert_same_bits(out.data, np.maximum(data[::-1], dtype(0)))


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_relu_of_a_non_contiguous_input(layout, kernels, small_chunks):
    data = special((6, 7), np.float32)
    view = data.T if layout == "transposed" else data[:, ::2]
    check_replay(ops.relu, view)
    assert_same_bits(ops.relu(view).data, np.maximum(view, 0))


@pytest.mark.parametrize("shape", [(33,), (4, 5, 6)])
def test_relu_replays_bit_identically(shape, kernels, small_chunks):
    check_replay(ops.relu, special(shape, np.float32))
    check_replay(lambda t: ops.relu(ops.mul(t, 2.0)), special(shape, np.float64))


def test_relu_takes_the_kernels_when_numba_is_on(monkeypatch):
    with _numba.use_kernels(True):
        kern = _numba.kernels("sinapsi.ops._pool_kernels")
    if kern is None:
        pytest.skip("numba is not installed")
    calls = {"relu_forward": 0, "relu_backward": 0}
    for name in calls:
        real = getattr(kern, name)

        def counting(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setattr(kern, name, counting)
    x = sn.Tensor(special((80, 64), np.float32), requires_grad=True)
    with _numba.use_kernels(True):
        out, replay = recorded_relu(x)  # large: the eager call takes the kernel
        replay()
        out.backward(np.ones((80, 64), np.float32))
        assert calls == {"relu_forward": 2, "relu_backward": 1}
        ops.relu(x[:, ::2])  # strided: NumPy
        ops.relu(np.arange(-4000, 4000).reshape(80, 100))  # ints: NumPy
        assert calls == {"relu_forward": 2, "relu_backward": 1}
    with _numba.use_kernels(False):
        out, replay = recorded_relu(x)
        replay()
        out.backward(np.ones((80, 64), np.float32))
        assert calls == {"relu_forward": 2, "relu_backward": 1}


def test_relu_zero_buffer_is_bounded_and_read_only(monkeypatch, small_chunks):
    with _numba.use_kernels(False):
        x = special((7, 9), np.float64)  # 63 elements: four chunks of at most 16
        out, replay = recorded_relu(sn.Tensor(x, dtype=x.dtype))
        replay()
        assert_same_bits(out.data, np.maximum(x, 0))
    zeros = activations._zero_chunks[np.dtype(np.float64)]
    assert zeros.size == 16 and not zeros.flags.writeable and not zeros.any()
