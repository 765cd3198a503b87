"""conv2d and conv1d against torch.nn.functional and finite differences: strides, padding
(int, pair, "same", "valid"), dilation, groups (depthwise too), no bias, batch 1, unbatched and
empty batches, any input strides; the one-line errors; the channels-last output layout."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import sinapsi as sn
from sinapsi import _numba
from sinapsi.testing import check_op
from strategies import normal, seeds

# name: (x shape, weight shape, with bias, keyword arguments)
CASES_2D = {
    "plain": ((2, 3, 6, 5), (4, 3, 3, 3), True, {}),
    "no_bias": ((2, 3, 5, 6), (4, 3, 3, 2), False, {}),
    "stride": ((2, 2, 7, 6), (3, 2, 3, 3), True, {"stride": 2}),
    "stride_pair_padding_pair": (
        (1, 2, 7, 8),
        (3, 2, 2, 3),
        True,
        {"stride": (2, 3), "padding": (1, 2)},
    ),
    "padding_int": ((2, 2, 5, 5), (3, 2, 3, 3), True, {"padding": 1}),
    "same_odd": ((2, 2, 5, 6), (3, 2, 3, 3), True, {"padding": "same"}),
    "same_even_dilated": (
        (2, 2, 6, 5),
        (3, 2, 2, 4),
        True,
        {"padding": "same", "dilation": (2, 1)},
    ),
    "valid": ((2, 2, 6, 5), (3, 2, 3, 2), True, {"padding": "valid"}),
    "dilation": ((1, 2, 8, 7), (2, 2, 3, 2), True, {"dilation": 2, "padding": 1}),
    "dilation_stride": ((2, 1, 9, 9), (2, 1, 3, 3), True, {"dilation": (2, 3), "stride": 2}),
    "groups": ((2, 4, 5, 5), (6, 2, 3, 3), True, {"groups": 2, "padding": 1}),
    "depthwise": ((2, 3, 5, 6), (6, 1, 3, 3), True, {"groups": 3, "stride": 2}),
    "one_channel": ((3, 1, 6, 6), (4, 1, 3, 3), True, {"padding": 1}),
    "batch_one_1x1": ((1, 3, 4, 5), (2, 3, 1, 1), True, {}),
    "kernel_is_input": ((2, 2, 3, 3), (2, 2, 3, 3), True, {}),
    "unbatched": ((3, 5, 6), (2, 3, 3, 3), True, {"padding": 1}),
    "unbatched_groups": ((4, 5, 5), (4, 2, 2, 2), False, {"groups": 2}),
}


def _run(fn, case):
    xs, ws, has_bias, kw = case
    inputs = [normal(1, xs), normal(2, ws)] + ([normal(3, (ws[0],))] if has_bias else [])

    def call(*t):
        return fn(t[0], t[1], t[2] if has_bias else None, **kw)

    return call, inputs


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's own
@pytest.mark.parametrize("name", sorted(CASES_2D))
def test_conv2d_matches_torch_and_finite_differences(name):
    ours, inputs = _run(sn.ops.conv2d, CASES_2D[name])
    theirs, _ = _run(F.conv2d, CASES_2D[name])
    check_op(ours, theirs, inputs)


@pytest.mark.parametrize("channels", [1, 2])
def test_conv2d_zero_batch(channels):
    case = ((0, channels, 5, 5), (3, channels, 3, 3), True, {"padding": 1})
    ours, inputs = _run(sn.ops.conv2d, case)
    theirs, _ = _run(F.conv2d, case)
    check_op(ours, theirs, inputs, gradcheck_inputs=False)
    out = sn.ops.conv2d(*[sn.tensor(a, requires_grad=True) for a in inputs], padding=1)
    assert out.shape == (0, 3, 5, 5)


@pytest.mark.parametrize("grads", [(False, True, True), (True, False, False), (False, False, True)])
def test_conv2d_gradients_only_where_asked(grads):
    case = ((2, 3, 5, 5), (4, 3, 3, 3), True, {"padding": 1, "stride": 2})
    ours, inputs = _run(sn.ops.conv2d, case)
    theirs, _ = _run(F.conv2d, case)
    check_op(ours, theirs, inputs, requires_grad=grads)


def test_conv2d_accepts_any_input_strides_and_returns_channels_last():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((2, 6, 7, 3))  # NHWC memory
    x = base.transpose(0, 3, 1, 2)[:, :, ::1, 1:]  # an NCHW view with odd strides
    w = rng.standard_normal((4, 3, 3, 3))
    ours = sn.ops.conv2d(sn.tensor(x, dtype="float64"), sn.tensor(w, dtype="float64"), padding=1)
    ref = F.conv2d(torch.tensor(np.ascontiguousarray(x)), torch.tensor(w), padding=1)
    np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-10, atol=1e-12)
    assert ours.data.transpose(0, 2, 3, 1).flags.c_contiguous  # channels last: free transpose


def test_conv2d_stack_of_two_matches_torch():
    def ours(x, w1, w2):
        return sn.ops.conv2d(sn.ops.conv2d(x, w1, padding=1).relu(), w2, stride=2)

    def theirs(x, w1, w2):
        return F.conv2d(F.conv2d(x, w1, padding=1).relu(), w2, stride=2)

    check_op(
        ours, theirs, [normal(1, (2, 2, 6, 6)), normal(2, (3, 2, 3, 3)), normal(3, (2, 3, 2, 2))]
    )


CASES_1D = {
    "plain": ((2, 3, 9), (4, 3, 3), True, {}),
    "stride_dilation_padding": (
        (2, 2, 11),
        (3, 2, 3),
        False,
        {"stride": 2, "dilation": 2, "padding": 2},
    ),
    "same": ((2, 2, 8), (3, 2, 4), True, {"padding": "same"}),
    "groups": ((1, 4, 7), (4, 1, 3), True, {"groups": 4, "padding": (1,)}),
    "unbatched": ((3, 6), (2, 3, 2), True, {"stride": (2,)}),
    "one_channel": ((2, 1, 9), (3, 1, 4), True, {"padding": 2, "dilation": 2}),
}


@pytest.mark.parametrize("name", sorted(CASES_1D))
def test_conv1d_matches_torch_and_finite_differences(name):
    ours, inputs = _run(sn.ops.conv1d, CASES_1D[name])
    theirs, _ = _run(F.conv1d, CASES_1D[name])
    check_op(ours, theirs, inputs)


@pytest.mark.parametrize("name", ["plain", "depthwise", "stride", "unbatched"])
def test_conv2d_numpy_path_matches_torch(name):
    with _numba.use_kernels(False):
        ours, inputs = _run(sn.ops.conv2d, CASES_2D[name])
        theirs, _ = _run(F.conv2d, CASES_2D[name])
        check_op(ours, theirs, inputs, gradcheck_inputs=False)


def test_conv2d_float32_stays_float32():
    x = sn.tensor(normal(0, (2, 1, 5, 5)), dtype="float32")
    w = sn.tensor(normal(1, (2, 1, 3, 3)), dtype="float32", requires_grad=True)
    out = sn.ops.conv2d(x, w)
    assert out.dtype == np.float32
    out.sum().backward()
    assert w.grad.dtype == np.float32


def _t(shape):
    return sn.tensor(np.zeros(shape, dtype="float32"))


@pytest.mark.parametrize(
    ("x", "w", "kw", "error", "match"),
    [
        ((64, 3, 28, 28), (6, 1, 5, 5), {}, ValueError,
         r"^conv2d: input has 3 channels but weight expects 1 \(weight shape \(6, 1, 5, 5\), "
         r"groups=1\); got input shape \(64, 3, 28, 28\)\.$"),
        ((2, 28, 28), (6, 1, 5, 5), {}, ValueError, r"input has 2 channels but weight expects 1"),
        ((28, 28), (6, 1, 5, 5), {}, ValueError,
         r"conv2d: input must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\); got shape \(28, 28\)"),
        ((1, 1, 8, 8), (6, 5, 5), {}, ValueError,
         r"conv2d: weight must be 4-D \(out_channels, in_channels/groups, kH, kW\); "
         r"got shape \(6, 5, 5\)"),
        ((1, 1, 4, 4), (6, 1, 5, 5), {}, ValueError,
         r"conv2d: the input \(1, 1, 4, 4\) is too small for kernel \(5, 5\) with padding "
         r"\(0, 0, 0, 0\), dilation \(1, 1\) and stride \(1, 1\): the output would be \(0, 0\)"),
        ((1, 4, 8, 8), (5, 2, 3, 3), {"groups": 2}, ValueError,
         r"conv2d: groups=2 must divide the weight's out_channels; "
         r"got weight shape \(5, 2, 3, 3\)"),
        ((1, 4, 8, 8), (6, 2, 3, 3), {"groups": 0}, ValueError,
         r"conv2d: groups must be a positive"),
        ((1, 1, 8, 8), (6, 1, 3, 3), {"stride": 0}, ValueError, r"conv2d: stride must be positive"),
        ((1, 1, 8, 8), (6, 1, 3, 3), {"stride": (1, 2, 3)}, TypeError,
         r"conv2d: stride must be an int or a tuple of 2 ints; got \(1, 2, 3\)"),
        ((1, 1, 8, 8), (6, 1, 3, 3), {"padding": -1}, ValueError,
         r"conv2d: padding must be non-negative"),
        ((1, 1, 8, 8), (6, 1, 3, 3), {"padding": "full"}, ValueError,
         r"conv2d: padding must be 'same', 'valid', an int or a tuple of 2 ints; got 'full'"),
        ((1, 1, 8, 8), (6, 1, 3, 3), {"padding": "same", "stride": 2}, ValueError,
         r"conv2d: padding='same' needs stride 1; got stride \(2, 2\)"),
        ((1, 1, 8, 8), (6, 1, 3, 3), {"dilation": 0}, ValueError,
         r"conv2d: dilation must be positive"),
    ],
)  # fmt: skip
def test_conv2d_errors_are_one_line(x, w, kw, error, match):
    with pytest.raises(error, match=match) as info:
        sn.ops.conv2d(_t(x), _t(w), **kw)
    assert "\n" not in str(info.value)


def test_conv2d_bias_shape_error():
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(6,\); got \(5,\)"):
        sn.ops.conv2d(_t((1, 1, 8, 8)), _t((6, 1, 3, 3)), _t((5,)))


def test_conv2d_dtype_mismatch_is_an_error():
    with pytest.raises(TypeError, match=r"conv2d: the operands have different dtypes"):
        sn.ops.conv2d(_t((1, 1, 8, 8)), sn.tensor(np.zeros((6, 1, 3, 3)), dtype="float64"))


def test_conv1d_errors_name_conv1d():
    expected = (
        r"^conv1d: input has 3 channels but weight expects 1 "
        r"\(weight shape \(6, 1, 5\), groups=1\); got input shape \(64, 3, 28\)\.$"
    )
    with pytest.raises(ValueError, match=expected):
        sn.ops.conv1d(_t((64, 3, 28)), _t((6, 1, 5)))
    with pytest.raises(ValueError, match=r"conv1d: input must be 3-D \(N, C, L\) or 2-D \(C, L\)"):
        sn.ops.conv1d(_t((1, 1, 8, 8)), _t((6, 1, 5)))
    with pytest.raises(ValueError, match=r"conv1d: the input \(1, 1, 4\) is too small"):
        sn.ops.conv1d(_t((1, 1, 4)), _t((6, 1, 5)))


@pytest.mark.parametrize(
    "kw",
    [
        {"padding": 1},
        {"padding": (2, 0), "stride": (2, 3), "dilation": (1, 2)},
        {"groups": 2, "padding": "same"},
        {"groups": 4, "stride": 2, "padding": 1},
    ],
)
def test_numba_and_numpy_paths_agree(kw, monkeypatch):
    calls = []
    if _numba.available():  # the kernels must really run on the first pass
        with _numba.use_kernels(True):  # (also under SINAPSI_NUMBA=0)
            kernels = _numba.kernels("sinapsi.ops._conv_kernels")
        for name in ("im2col", "col2im"):
            original = getattr(kernels, name)
            spy = lambda *a, _f=original, _n=name: (calls.append(_n), _f(*a))[1]  # noqa: E731
            monkeypatch.setattr(kernels, name, spy)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 7, 8, 4)).astype("float32").transpose(0, 3, 1, 2)  # channels last
    w = rng.standard_normal((4, 4 // kw.get("groups", 1), 3, 3)).astype("float32")
    b = rng.standard_normal(4).astype("float32")
    results = []
    for flag in (True, False):
        with _numba.use_kernels(flag):
            ts = [sn.tensor(a, requires_grad=True) for a in (x, w, b)]
            out = sn.ops.conv2d(*ts, **kw)
            (out * out).sum().backward()
            results.append([out.data] + [t.grad for t in ts])
            if _numba.available():  # one channel per group: NumPy's copies are the faster
                used = flag and kw.get("groups", 1) < 4
                assert set(calls) == ({"im2col", "col2im"} if used else set())
                calls.clear()
    for ours, numpy_path in zip(*results):
        np.testing.assert_allclose(ours, numpy_path, rtol=1e-5, atol=1e-5)


def test_reused_column_buffers_never_mix_graphs():
    """Two graphs alive at once, a retained graph run twice, buffers back in the pool between:
    each weight gradient is still its own (the columns are pooled, never shared while live)."""
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal((2, 3, 6, 6)) for _ in range(3)]
    w = sn.tensor(rng.standard_normal((4, 3, 3, 3)), dtype="float64", requires_grad=True)

    def expected(x):
        tw = torch.tensor(w.data, requires_grad=True)
        F.conv2d(torch.tensor(x), tw, padding=1).sum().backward()
        return tw.grad.numpy()

    outs = [sn.ops.conv2d(sn.tensor(x, dtype="float64"), w, padding=1) for x in xs[:2]]
    for out, x in zip(outs, xs):
        w.grad = None
        out.sum().backward(retain_graph=True)
        np.testing.assert_allclose(w.grad, expected(x), rtol=1e-10)
        sn.ops.conv2d(sn.tensor(xs[2], dtype="float64"), w, padding=1).sum().backward()
        w.grad = None
        out.sum().backward()  # the retained graph again, after another graph came and went
        np.testing.assert_allclose(w.grad, expected(x), rtol=1e-10)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@given(
    seed=seeds,
    n=st.integers(1, 3),
    groups=st.sampled_from([1, 2]),
    per_group=st.integers(1, 3),
    out_per_group=st.integers(1, 3),
    size=st.tuples(st.integers(3, 9), st.integers(3, 9)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.sampled_from([0, 1, (2, 0), "same"]),
)
def test_conv2d_random_geometries_match_torch(
    seed, n, groups, per_group, out_per_group, size, kernel, stride, dilation, padding
):
    if padding == "same":
        stride = (1, 1)
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    pad = (0, 0) if padding == "same" else ((padding,) * 2 if isinstance(padding, int) else padding)
    if any(s + 2 * p < k for s, p, k in zip(size, pad, span)):
        assume(False)  # too small: the error case is tested elsewhere
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    x = normal(seed, (n, groups * per_group) + size)
    w = normal(seed + 1, (groups * out_per_group, per_group) + kernel)
    b = normal(seed + 2, (groups * out_per_group,))
    check_op(
        lambda *t: sn.ops.conv2d(*t, **kw),
        lambda *t: F.conv2d(*t, **kw),
        [x, w, b],
        gradcheck_inputs=False,
    )
