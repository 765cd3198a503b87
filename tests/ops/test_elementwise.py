"""Elementwise ops against PyTorch (float64 1e-10, float32 1e-5) and finite differences,
on hypothesis-drawn shapes that broadcast against each other."""

import numpy as np
import pytest
import torch
from hypothesis import given

import sinapsi as sn
from sinapsi.testing import check_op
from strategies import away_from, nonzero, normal, positive, seeds, shapes, two_broadcastable

BINARY = {
    "add": (sn.add, torch.add, normal, normal),
    "sub": (sn.sub, torch.sub, normal, normal),
    "mul": (sn.mul, torch.mul, normal, normal),
    "div": (sn.div, torch.div, normal, nonzero),
    "pow": (sn.pow, torch.pow, positive, normal),
    "maximum": (sn.maximum, torch.maximum, normal, normal),
    "minimum": (sn.minimum, torch.minimum, normal, normal),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=two_broadcastable, seed=seeds)
def test_binary_op_matches_torch_and_finite_differences(name, shapes, seed):
    ours, theirs, gen_a, gen_b = BINARY[name]
    (shape_a, shape_b), _ = shapes
    a, b = gen_a(seed, shape_a), gen_b(seed + 1, shape_b)
    check_op(ours, theirs, [a, b])


UNARY = {
    "neg": (sn.neg, torch.neg, normal),
    "exp": (sn.exp, torch.exp, normal),
    "log": (sn.log, torch.log, positive),
    "log1p": (sn.log1p, torch.log1p, positive),
    "sqrt": (sn.sqrt, torch.sqrt, positive),
    "abs": (sn.abs, torch.abs, nonzero),
    "erf": (sn.erf, torch.erf, normal),
    "sigmoid": (sn.sigmoid, torch.sigmoid, normal),
    "tanh": (sn.tanh, torch.tanh, normal),
    "relu": (sn.relu, torch.relu, lambda s, sh: away_from(s, sh, [0.0])),
    "pow_scalar_2": (lambda x: x**2, lambda x: x**2, normal),
    "pow_scalar_3": (lambda x: x**3, lambda x: x**3, normal),
    "pow_scalar_half": (lambda x: x**0.5, lambda x: x**0.5, positive),
    "pow_scalar_0": (lambda x: x**0, lambda x: x**0, normal),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x, normal),
    "clip": (
        lambda x: sn.clip(x, -0.5, 0.7),
        lambda x: torch.clamp(x, -0.5, 0.7),
        lambda s, sh: away_from(s, sh, [-0.5, 0.7]),
    ),
    "clip_min_only": (
        lambda x: x.clip(min=0.1),
        lambda x: torch.clamp(x, min=0.1),
        lambda s, sh: away_from(s, sh, [0.1]),
    ),
    "scalar_arithmetic": (
        lambda x: (3.0 - x) * 2 / (x * x + 1.0) + 1,
        lambda x: (3.0 - x) * 2 / (x * x + 1.0) + 1,
        normal,
    ),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes, seed=seeds)
def test_unary_op_matches_torch_and_finite_differences(name, shape, seed):
    ours, theirs, gen = UNARY[name]
    check_op(ours, theirs, [gen(seed, shape)])


@given(shapes=two_broadcastable, seed=seeds)
def test_where_matches_torch(shapes, seed):
    (shape_a, shape_b), out_shape = shapes
    cond = np.random.default_rng(seed).random(out_shape) > 0.5
    check_op(
        lambda a, b, c: sn.where(c, a, b),
        lambda a, b, c: torch.where(c, a, b),
        [normal(seed, shape_a), normal(seed + 1, shape_b), cond],
    )


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_split_ties_like_torch(op):
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, 2.0])
    check_op(getattr(sn, op), getattr(torch, op), [a, b], gradcheck_inputs=False)


def test_python_scalars_keep_float32():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.5 + 1) / 3.0 - 0.5
    y = y**2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_numpy_array_operand_takes_the_tensor_dtype():
    x = sn.tensor([1.0, 2.0])
    assert (x + np.array([1.0, 2.0])).dtype == np.float32  # numpy float64 does not upcast
    assert (np.array([1.0, 2.0]) * x).dtype == np.float32


def test_integer_tensors_promote_to_float_like_torch():
    i = sn.tensor([1, 2, 3])
    assert i.dtype == np.int64
    assert (i + 1).dtype == np.int64
    assert (i * 0.5).dtype == np.float32
    np.testing.assert_array_equal((i * 0.5).data, [0.5, 1.0, 1.5])
    assert (i / 2).dtype == np.float32
