"""Ops at the edges PyTorch defines: 0-d tensors, zero-size axes, broadcast bounds, and the
argument forms PyTorch users type (issue 14, items 6 and 18)."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi.testing import check_op


# ------------------------------------------------------------------ 0-d tensors with an axis
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp"])
@pytest.mark.parametrize("axis", [0, -1, (0,), None])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_of_a_0d_tensor_over_axis_0_or_minus_1_match_torch(name, axis, keepdims):
    dim = tuple(range(0)) if axis is None else axis
    theirs = {
        "sum": lambda x: torch.sum(x, dim=dim, keepdim=keepdims),
        "mean": lambda x: torch.mean(x, dim=dim, keepdim=keepdims),
        "max": lambda x: torch.amax(x, dim=dim, keepdim=keepdims),
        "min": lambda x: torch.amin(x, dim=dim, keepdim=keepdims),
        "logsumexp": lambda x: torch.logsumexp(x, dim=dim, keepdim=keepdims),
    }[name]
    check_op(lambda x: getattr(sn, name)(x, axis, keepdims), theirs, [np.array(1.5)])


@pytest.mark.parametrize("axis", [0, -1])
def test_squeeze_and_gather_of_a_0d_tensor_match_torch(axis):
    check_op(lambda x: sn.squeeze(x, axis), lambda x: torch.squeeze(x, axis), [np.array(2.0)])
    check_op(
        lambda x, i: sn.gather(x, axis, i),
        lambda x, i: torch.gather(x, axis, i),
        [np.array(2.0), np.array(0)],
    )


def test_axis_out_of_range_for_a_0d_tensor_names_a_range_that_exists():
    message = r"sum: axis 1 is out of range .* 0 dimensions \(valid: -1 to 0\)"
    with pytest.raises(ValueError, match=message):
        sn.sum(sn.tensor(1.0), axis=1)


# ------------------------------------------------------------------ zero-length axes
@pytest.mark.parametrize("shape", [(2, 0), (0, 3), (0,)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_over_a_zero_length_axis_matches_torch(name, shape):
    """torch gives an empty result (softmax) or -inf (logsumexp of nothing)."""
    theirs = {
        "softmax": lambda x: torch.softmax(x, -1),
        "log_softmax": lambda x: torch.log_softmax(x, -1),
        "logsumexp": lambda x: torch.logsumexp(x, -1),
    }[name]
    check_op(lambda x: getattr(sn, name)(x, -1), theirs, [np.zeros(shape)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_of_a_0d_tensor_matches_torch(name, axis):
    check_op(
        lambda x: getattr(sn, name)(x, axis),
        lambda x: getattr(torch, name)(x, axis),
        [np.array(0.7)],
    )


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_keep_zero_size_axes_they_do_not_reduce(name):
    theirs = torch.amax if name == "max" else torch.amin
    check_op(lambda x: getattr(sn, name)(x, 1), lambda x: theirs(x, 1), [np.zeros((0, 3))])


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_over_a_zero_length_axis_name_it(name):
    with pytest.raises(
        ValueError, match=rf"{name}: cannot reduce over axis 1 of size 0 .*\(2, 0, 3\)"
    ):
        getattr(sn, name)(sn.tensor(np.zeros((2, 0, 3))), axis=1)


# ------------------------------------------------------------------ clip, flatten, pow
@pytest.mark.parametrize(
    ("x_shape", "lo_shape", "hi_shape"),
    [((3,), (2, 3), None), ((2, 1), (3,), (2, 3)), ((4,), (3, 1), (3, 4)), ((2, 3), None, (3,))],
)
def test_clip_with_array_bounds_that_broadcast_the_input_matches_torch(x_shape, lo_shape, hi_shape):
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(x_shape)]
    inputs += [rng.standard_normal(s) - 0.5 for s in (lo_shape, hi_shape) if s is not None]
    if hi_shape is not None:
        inputs[-1] = inputs[-1] + 1.0

    def split(args):
        lo = args[1] if lo_shape is not None else None
        hi = args[-1] if hi_shape is not None else None
        return args[0], lo, hi

    check_op(
        lambda *a: sn.clip(*split(a)),
        lambda *a: torch.clamp(*split(a)),
        inputs,
        gradcheck_inputs=False,  # finite differences cross the kinks at the bounds
    )


def test_clip_bounds_that_cross_give_max_and_its_gradient_like_torch():
    x, lo, hi = np.array([0.5, -1.0, 2.0, 0.0]), np.zeros(4), np.array([1.0, -0.5, 1.0, 0.0])
    check_op(sn.clip, torch.clamp, [x, lo, hi], gradcheck_inputs=False)


def test_clip_numpy_array_bounds_are_constants():
    x = sn.tensor([[-2.0, 0.5, 3.0]], requires_grad=True)
    y = sn.clip(x, np.array([-1.0, 0.0, 1.0]), np.array([[2.0], [0.2]]))
    assert y.shape == (2, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 0.0]])


def test_flatten_keeps_the_sizes_of_a_zero_size_tensor():
    x = np.zeros((2, 0, 3, 4))
    for start, end in [(2, 3), (0, 1), (1, 2), (0, -1), (1, -1)]:
        assert (
            sn.flatten(sn.tensor(x), start, end).shape
            == torch.flatten(torch.tensor(x), start, end).shape
        )


def test_pow_with_a_tensor_exponent_of_zero_at_a_zero_base_has_torchs_gradient():
    """0 ** 0 = 1, flat in the base: torch gives 0, not NaN (0 * 0 ** -1)."""
    check_op(sn.pow, torch.pow, [np.array([0.0, 0.0, 2.0]), np.array([0.0, 1.0, 0.0])],
             gradcheck_inputs=False)  # fmt: skip


def test_pow_at_a_zero_base_gives_torchs_gradients_without_warnings():
    check_op(sn.pow, torch.pow, [np.array([0.0, 0.0, 0.0]), np.array([0.5, 2.0, 1.0])],
             gradcheck_inputs=False)  # fmt: skip


# ------------------------------------------------------------------ div rounding modes
@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_modes_match_torch_on_floats(mode):
    a = np.array([[7.0, -7.0, 7.5, -7.5], [0.5, -0.5, 3.0, -3.0]])
    b = np.array([2.0, 2.0, -2.0, 1.5])
    check_op(
        lambda x, y: sn.div(x, y, rounding_mode=mode),
        lambda x, y: torch.div(x, y, rounding_mode=mode),
        [a, b],
        gradcheck_inputs=mode is None,  # rounded quotients are steps: torch's gradient is 0
    )


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_modes_of_integers_stay_integers_like_torch(mode):
    a, b = np.array([7, -7, 6, -6]), np.array([2, 2, -4, 4])
    ours = sn.div(sn.tensor(a), sn.tensor(b), rounding_mode=mode)
    theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal((sn.tensor(a) // 3).data, (torch.tensor(a) // 3).numpy())


def test_floor_division_operator_is_floor_rounding_like_torch():
    x = sn.tensor([7.0, -7.0], requires_grad=True)
    np.testing.assert_array_equal((x // 2).data, [3.0, -4.0])
    np.testing.assert_array_equal((9.0 // x).data, [1.0, -2.0])


def test_integer_division_by_zero_is_a_clear_error():
    message = r"div: integer division by zero .*rounding_mode='floor'"
    with pytest.raises(ZeroDivisionError, match=message):
        sn.div(sn.tensor([7, 1]), sn.tensor([2, 0]), rounding_mode="floor")


def test_div_refuses_an_unknown_rounding_mode():
    with pytest.raises(
        ValueError, match=r"div: rounding_mode must be None, 'trunc' or 'floor'.*Got 'round'"
    ):
        sn.div(sn.tensor([1.0]), 2.0, rounding_mode="round")


# ------------------------------------------------------------ integer inputs
FLOAT_VALUED = ["exp", "log", "log1p", "sqrt", "sigmoid", "tanh", "erf", "logsumexp", "mean",
                "var", "softmax", "log_softmax"]  # fmt: skip


@pytest.mark.parametrize("name", FLOAT_VALUED)
def test_float_valued_ops_of_integer_tensors_give_the_default_float_not_float64(name):
    """torch.exp(int tensor) is float32 (the default dtype); NumPy's would be float64."""
    ints = np.array([1, 2, 3])
    out = getattr(sn, name)(sn.tensor(ints))
    assert out.dtype == np.float32
    floats = torch.tensor(ints, dtype=torch.float32)
    expected = {
        "softmax": lambda t: torch.softmax(t, 0),
        "log_softmax": lambda t: torch.log_softmax(t, 0),
        "logsumexp": lambda t: torch.logsumexp(t, 0),
        "var": lambda t: torch.var(t, correction=0),
    }.get(name, getattr(torch, name))(floats)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)
    with sn.default_dtype("float64"):
        assert getattr(sn, name)(sn.tensor(ints)).dtype == np.float64


def test_relu_and_integer_powers_keep_integers_and_float_powers_give_float32_like_torch():
    ints = np.array([-2, 0, 3])
    for ours, theirs in [
        (sn.relu(sn.tensor(ints)), torch.relu(torch.tensor(ints))),
        (sn.tensor(ints) ** 2, torch.tensor(ints) ** 2),
        (sn.tensor(np.abs(ints)) ** 0.5, torch.tensor(np.abs(ints)) ** 0.5),
        (sn.clip(sn.tensor(ints), 0.5), torch.clamp(torch.tensor(ints), 0.5)),
    ]:
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


def test_squeeze_and_reshape_errors_say_what_to_do():
    x = sn.zeros((2, 3))
    with pytest.raises(
        ValueError, match=r"squeeze: axis 0 of shape \(2, 3\) has size 2, not 1\. .*torch"
    ):
        x.squeeze(0)
    with pytest.raises(ValueError, match=r"reshape: .*into shape \(4, 2\) \(8 elements\)\. .*-1"):
        x.reshape(4, 2)


@pytest.mark.parametrize(("start", "end"), [(-5, -1), (0, 5), (3, -1)])
def test_flatten_refuses_an_axis_out_of_range_as_torch_does(start, end):
    x = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(IndexError):
        torch.flatten(torch.from_numpy(x), start, end)
    with pytest.raises((ValueError, IndexError), match=r"flatten: axis -?\d is out of range"):
        sn.flatten(sn.tensor(x), start, end)
