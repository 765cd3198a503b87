"""What PyTorch users type, each checked against torch (issue 14, item 18): argmax/argmin,
dtype shortcuts, view/unsqueeze/squeeze/permute, size()/dim()/numel(), .mT, dim=/keepdim=,
nn.Flatten(start_dim=, end_dim=)."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn
from sinapsi.testing import check_op

X = np.array([[1.0, 3.0, 3.0], [4.0, 0.0, 4.0]])  # ties: both libraries take the first


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"dim": 1}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"keepdim": True}],
)
def test_argmax_argmin_match_torch_as_function_and_method(name, kwargs):
    expected = getattr(torch, name)(torch.tensor(X), **kwargs).numpy()
    x = sn.tensor(X, requires_grad=True)
    for got in (getattr(sn, name)(x, **kwargs), getattr(x, name)(**kwargs)):
        assert got.dtype == np.int64 and not got.requires_grad
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.data, expected)


def test_argmax_numpy_keywords_and_edges():
    x = sn.tensor(X)
    np.testing.assert_array_equal(sn.argmax(x, axis=1, keepdims=True).data, [[1], [0]])
    assert sn.argmax(sn.tensor(2.0)).item() == 0
    assert sn.argmax(sn.tensor(2.0), 0).item() == 0
    assert sn.argmax(sn.tensor(np.zeros((0, 3))), 1).shape == (0,)
    with pytest.raises(ValueError, match=r"argmin: cannot reduce over axis 0 of size 0 .*another"):
        sn.argmin(sn.tensor(np.zeros((0, 3))), 0)
    with pytest.raises(ValueError, match=r"argmax: cannot take the argmax of an empty tensor"):
        sn.argmax(sn.tensor(np.zeros(0)))
    with pytest.raises(TypeError, match=r"argmax: got both axis=1 and dim=0"):
        sn.argmax(x, 1, dim=0)


def test_dtype_shortcuts_match_torch():
    x = sn.tensor([1.5, -2.5], requires_grad=True)
    assert x.double().dtype == np.float64 and x.double().requires_grad
    assert x.double().float().dtype == np.float32
    long = x.long()
    assert long.dtype == np.int64 and not long.requires_grad
    np.testing.assert_array_equal(long.data, torch.tensor([1.5, -2.5]).long().numpy())
    x.double().sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda t: t.view(3, 4), lambda t: t.view(3, 4)),
        (lambda t: t.view((-1,)), lambda t: t.view((-1,))),
        (lambda t: t.view(2, -1, 2), lambda t: t.view(2, -1, 2)),
        (lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(0)),
        (lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
        (lambda t: t.unsqueeze(1).squeeze(), lambda t: t.unsqueeze(1).squeeze()),
        (lambda t: t.unsqueeze(1).squeeze(1), lambda t: t.unsqueeze(1).squeeze(1)),
        (lambda t: t.unsqueeze(2).squeeze(dim=-1), lambda t: t.unsqueeze(2).squeeze(dim=-1)),
        (lambda t: t.permute(1, 0), lambda t: t.permute(1, 0)),
        (lambda t: t.permute((1, 0)), lambda t: t.permute((1, 0))),
        (lambda t: t.mT, lambda t: t.mT),
        (lambda t: t.view(2, 3, 2).mT, lambda t: t.view(2, 3, 2).mT),
        (lambda t: t.clone() * 2, lambda t: t.clone() * 2),
    ],
)
def test_shape_methods_match_torch(ours, theirs):
    check_op(ours, theirs, [np.arange(12.0).reshape(4, 3) / 7])


def test_size_dim_numel_match_torch_and_size_stays_a_number():
    x, t = sn.zeros((2, 3, 4)), torch.zeros(2, 3, 4)
    assert x.size() == tuple(t.size()) == (2, 3, 4)
    assert x.size(1) == t.size(1) == 3 and x.size(-1) == t.size(-1)
    assert x.dim() == t.dim() == 3 and x.numel() == t.numel() == 24
    assert x.size == 24 and x.size + 1 == 25 and isinstance(x.size, int)  # NumPy's .size
    with pytest.raises(ValueError, match=r"size: axis 3 is out of range"):
        x.size(3)


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp"])
def test_reductions_take_dim_and_keepdim(name):
    ref = getattr(torch, name)
    check_op(
        lambda t: getattr(t, name)(dim=1, keepdim=True),
        lambda t: ref(t, dim=1, keepdim=True),
        [X],
    )
    check_op(lambda t: getattr(sn, name)(t, dim=0), lambda t: ref(t, dim=0), [X])


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_with_dim_explains_that_values_and_indices_are_separate(name):
    with pytest.raises(
        TypeError, match=rf"{name}\(dim=\.\.\.\) in PyTorch returns \(values, indices\).*arg{name}"
    ):
        sn.tensor(X).__getattribute__(name)(dim=1)
    out = getattr(sn.tensor(X), name)(axis=1, keepdim=True)
    assert out.shape == (2, 1)


def test_unsqueeze_out_of_range_is_refused_like_torch():
    with pytest.raises(
        ValueError, match=r"expand_dims: axis 3 is out of range .*\(valid: -3 to 2\)"
    ):
        sn.zeros((2, 3)).unsqueeze(3)


def test_flatten_layer_takes_torchs_start_dim_and_end_dim():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    ours = nn.Flatten(start_dim=2)
    theirs = torch.nn.Flatten(start_dim=2)
    assert ours(sn.tensor(x)).shape == tuple(theirs(torch.tensor(x)).shape)
    ours = nn.Flatten(start_dim=0, end_dim=1)
    assert ours(sn.tensor(x)).shape == (6, 4, 5)
    assert ours.get_config() == {"start_axis": 0, "end_axis": 1}
    assert nn.Flatten(**ours.get_config()).start_axis == 0
    assert nn.Flatten(1, 2).end_axis == 2  # today's names and positions keep working
    with pytest.raises(TypeError, match=r"Flatten: got both start_axis=1 and start_dim=2"):
        nn.Flatten(1, start_dim=2)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_takes_dim_as_function_method_and_module(name):
    ref = getattr(torch, name)
    check_op(lambda t: getattr(sn, name)(t, dim=0), lambda t: ref(t, dim=0), [X])
    check_op(lambda t: getattr(t, name)(dim=0), lambda t: getattr(t, name)(dim=0), [X])
    module = {
        "softmax": (nn.Softmax, torch.nn.Softmax),
        "log_softmax": (nn.LogSoftmax, torch.nn.LogSoftmax),
    }[name]
    ours, theirs = module[0](dim=0), module[1](dim=0)
    check_op(ours, theirs, [X])
    assert type(ours)(**ours.get_config()).axis == 0
    with pytest.raises(TypeError, match=rf"{name}: got both axis=1 and dim=0"):
        getattr(sn, name)(sn.tensor(X), 1, dim=0)


def test_concatenate_and_stack_name_an_axis_out_of_range():
    x = sn.zeros((2, 3))
    with pytest.raises(
        ValueError, match=r"concatenate: axis 2 is out of range .*\(valid: -2 to 1\)"
    ):
        sn.concatenate([x, x], axis=2)
    with pytest.raises(ValueError, match=r"stack: axis 3 is out of range .*\(valid: -3 to 2\)"):
        sn.stack([x, x], axis=3)
    with pytest.raises(ValueError, match=r"concatenate: 0-d tensors have no axis .* use stack"):
        sn.concatenate([sn.tensor(1.0), sn.tensor(2.0)])
    assert sn.concatenate([x, x], dim=1).shape == (2, 6)  # torch.cat's keyword
    assert sn.stack([x, x], dim=-1).shape == (2, 3, 2)
