"""Pooling ops against torch.nn.functional (forward and gradients) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import _numba, ops
from sinapsi.testing import check_op

torch = pytest.importorskip("torch")
F = torch.nn.functional


def distinct(shape, seed=0):
    """Values without ties (a scaled random permutation), so max pooling's gradient is defined
    and finite differences see no switch of the winner."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) / n - 0.5) * 4.0


def channels_last(a):
    """The same values as an NCHW view of NHWC-contiguous memory."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def nhwc_order(a):
    """Whether C varies fastest in memory, then W, H, N (an NHWC layout, maybe a view)."""
    st = a.strides
    return st[0] >= st[2] >= st[3] >= st[1]


MAX_CASES = [
    ((2, 3, 7, 9), dict(kernel_size=2)),
    ((2, 3, 8, 8), dict(kernel_size=2, stride=2)),
    ((1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 1, 9, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))),
    ((1, 2, 9, 9), dict(kernel_size=3, stride=1, dilation=2)),
    ((1, 2, 10, 9), dict(kernel_size=2, stride=3, dilation=(2, 3), padding=1)),
    ((2, 2, 7, 7), dict(kernel_size=2, stride=2, ceil_mode=True)),
    ((2, 2, 8, 6), dict(kernel_size=2, stride=2, ceil_mode=True)),  # the 2x2 path
    ((1, 2, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 1, 5, 5), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ((3, 7, 7), dict(kernel_size=3, stride=2)),  # unbatched
    ((1, 1, 12, 13), dict(kernel_size=12, stride=1)),  # 144 offsets: an int32 winner index
]


@pytest.mark.parametrize(("shape", "kw"), MAX_CASES)
def test_max_pool2d_matches_torch(shape, kw):
    check_op(lambda t: ops.max_pool2d(t, **kw), lambda t: F.max_pool2d(t, **kw), [distinct(shape)])


AVG_CASES = [
    ((2, 3, 7, 9), dict(kernel_size=2)),
    ((1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((2, 1, 9, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))),
    ((2, 2, 7, 7), dict(kernel_size=2, stride=2, ceil_mode=True)),
    ((1, 2, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (
        (1, 2, 8, 7),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),  # fmt: skip
    ((1, 1, 5, 5), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ((1, 2, 6, 6), dict(kernel_size=3, padding=1, divisor_override=5)),
    ((3, 7, 7), dict(kernel_size=3, stride=2)),  # unbatched
]


@pytest.mark.parametrize(("shape", "kw"), AVG_CASES)
def test_avg_pool2d_matches_torch(shape, kw):
    x = np.random.default_rng(1).standard_normal(shape)
    check_op(lambda t: ops.avg_pool2d(t, **kw), lambda t: F.avg_pool2d(t, **kw), [x])


ADAPTIVE_CASES = [
    ((2, 3, 7, 9), 1),
    ((2, 3, 7, 9), (3, 4)),
    ((1, 2, 5, 11), (5, 3)),
    ((1, 2, 6, 8), (None, 3)),
    ((1, 2, 4, 4), (7, 6)),  # larger than the input: windows overlap
    ((3, 10, 7), 2),  # unbatched
]


@pytest.mark.parametrize(("shape", "size"), ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_matches_torch(shape, size):
    x = np.random.default_rng(2).standard_normal(shape)
    check_op(
        lambda t: ops.adaptive_avg_pool2d(t, size),
        lambda t: F.adaptive_avg_pool2d(t, size),
        [x],
    )


@pytest.mark.parametrize("layout", ["nchw", "channels_last", "strided"])
@pytest.mark.parametrize(
    "op",
    [
        (lambda t: ops.max_pool2d(t, 2), lambda t: F.max_pool2d(t, 2)),
        (lambda t: ops.max_pool2d(t, 3, 2, 1), lambda t: F.max_pool2d(t, 3, 2, 1)),
        (lambda t: ops.avg_pool2d(t, 3, 2, 1), lambda t: F.avg_pool2d(t, 3, 2, 1)),
        (lambda t: ops.adaptive_avg_pool2d(t, 3), lambda t: F.adaptive_avg_pool2d(t, 3)),
        (lambda t: ops.adaptive_avg_pool2d(t, 1), lambda t: F.adaptive_avg_pool2d(t, 1)),
    ],
)
def test_any_layout_gives_torch_values_and_keeps_channels_last(layout, op):
    ours, theirs = op
    base = distinct((3, 4, 9, 8), seed=3)
    if layout == "channels_last":
        base = channels_last(base)
    elif layout == "strided":
        base = distinct((3, 8, 9, 16), seed=3)[:, ::2, :, ::2]
    x = sn.Tensor(base, dtype="float64", requires_grad=True)
    out = ours(x)
    ref = theirs(torch.tensor(np.ascontiguousarray(base)))
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-12, atol=1e-12)
    out.backward(np.ones(out.shape))
    t = torch.tensor(np.ascontiguousarray(base), requires_grad=True)
    theirs(t).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)
    if layout == "channels_last":
        assert out.data.transpose(0, 2, 3, 1).flags.c_contiguous
        assert nhwc_order(x.grad)


@pytest.mark.parametrize(
    "shape", [(4, 3, 26, 26), (2, 6, 25, 23), (2, 20, 6, 7), (0, 3, 8, 8), (3, 8, 8)]
)
@pytest.mark.parametrize("numba", [True, False])
def test_max_pool_2x2_fast_path_both_layouts_and_paths(shape, numba):
    base = distinct(shape, seed=4)
    layouts = [base, channels_last(base)] if len(shape) == 4 else [base]
    for a in layouts:
        with _numba.use_kernels(numba):
            check_op(lambda t: ops.max_pool2d(t, 2, 2), lambda t: F.max_pool2d(t, 2, 2), [a],
                     gradcheck_inputs=a.size and a.size < 2000)  # fmt: skip


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize(
    ("kw", "shape"),
    [(dict(kernel_size=2), (1, 2, 6, 6)), (dict(kernel_size=3, stride=1), (2, 2, 5, 5))],
)
def test_ties_send_the_gradient_where_torch_does(kw, shape, numba):
    x = np.zeros(shape)
    x[..., 1:3, 2:4] = 1.0  # plateaus: ties inside windows
    t = torch.tensor(x, requires_grad=True)
    F.max_pool2d(t, **kw).sum().backward()
    ours = sn.Tensor(x, requires_grad=True)
    with _numba.use_kernels(numba):
        ops.max_pool2d(ours, **kw).sum().backward()
    np.testing.assert_array_equal(ours.grad, t.grad.numpy())


def test_zero_batch_gives_empty_outputs_and_gradients():
    for fn in (lambda t: ops.max_pool2d(t, 3, 2, 1), lambda t: ops.avg_pool2d(t, 2),
               lambda t: ops.adaptive_avg_pool2d(t, (2, 3))):  # fmt: skip
        x = sn.Tensor(np.zeros((0, 3, 7, 7), "float32"), requires_grad=True)
        out = fn(x)
        assert out.shape[:2] == (0, 3) and out.dtype == np.float32
        out.sum().backward()
        assert x.grad.shape == (0, 3, 7, 7)


def test_float32_stays_float32_and_no_grad_input_works():
    x = sn.Tensor(distinct((2, 3, 6, 6)), dtype="float32")
    for out in (ops.max_pool2d(x, 2), ops.avg_pool2d(x, 2), ops.adaptive_avg_pool2d(x, 3)):
        assert out.dtype == np.float32 and out.shape == (2, 3, 3, 3)
        assert not out.requires_grad


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: ops.max_pool2d(np.zeros((5, 5)), 2),
            r"^max_pool2d: expected input of shape \(N, C, H, W\) or unbatched \(C, H, W\); "
            r"got shape \(5, 5\)",
        ),
        (
            lambda: ops.avg_pool2d(np.zeros((1, 2, 3, 4, 5)), 2),
            r"^avg_pool2d: .*got shape \(1, 2, 3, 4, 5\)",
        ),
        (
            lambda: ops.max_pool2d(np.zeros((1, 1, 2, 2)), 3),
            r"^max_pool2d: the input is too small for kernel_size=\(3, 3\).*"
            r"output size would be \(0, 0\) for input shape \(1, 1, 2, 2\)",
        ),
        (
            lambda: ops.max_pool2d(np.zeros((1, 1, 8, 8)), 3, padding=2),
            r"^max_pool2d: padding must be at most half the kernel size .*padding=\(2, 2\)",
        ),
        (
            lambda: ops.avg_pool2d(np.zeros((1, 1, 8, 8)), 0),
            r"^avg_pool2d: kernel_size must be positive\. Received: kernel_size=0",
        ),
        (
            lambda: ops.max_pool2d(np.zeros((1, 1, 8, 8)), 2, stride=(1, 0)),
            r"^max_pool2d: stride must be positive\. Received: stride=\(1, 0\)",
        ),
        (
            lambda: ops.max_pool2d(np.zeros((1, 1, 8, 8)), 2, dilation=0),
            r"^max_pool2d: dilation must be",
        ),
        (
            lambda: ops.avg_pool2d(np.zeros((1, 1, 8, 8)), 2, divisor_override=0),
            r"^avg_pool2d: divisor_override must be",
        ),
        (
            lambda: ops.adaptive_avg_pool2d(np.zeros((1, 1, 8, 8)), 0),
            r"^adaptive_avg_pool2d: output_size must be",
        ),
        (
            lambda: ops.adaptive_avg_pool2d(np.zeros((8, 8)), 2),
            r"^adaptive_avg_pool2d: expected input .*got shape \(8, 8\)",
        ),
    ],
)
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_integer_input_is_pooled_as_float():
    out = ops.max_pool2d(np.arange(16).reshape(1, 1, 4, 4), 2)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data[0, 0], [[5, 7], [13, 15]])


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize(("k", "s"), [(2, 2), (3, 2)])
def test_nan_propagates_and_takes_the_gradient_as_in_torch(numba, k, s):
    x = distinct((2, 2, 6, 6), seed=5)
    x[0, 0, 0, 1] = x[0, 1, 1, 0] = x[0, 1, 1, 1] = x[1, 0, 3, 3] = np.nan
    for a in (x, channels_last(x)):
        t = torch.tensor(np.ascontiguousarray(a), requires_grad=True)
        ref = F.max_pool2d(t, k, s)
        ref.sum().backward()
        ours = sn.Tensor(a, dtype="float64", requires_grad=True)
        with _numba.use_kernels(numba):
            out = ops.max_pool2d(ours, k, s)
        out.sum().backward()
        np.testing.assert_array_equal(out.data, ref.detach().numpy())
        np.testing.assert_array_equal(ours.grad, t.grad.numpy())
