"""Tensor construction, dtypes, conversions and repr; the backend's dtype and RNG switches."""

import numpy as np
import pytest

import sinapsi as sn


def test_float_data_gets_the_default_dtype_and_integers_keep_theirs():
    assert sn.tensor([1.0, 2.0]).dtype == np.float32
    assert sn.tensor(np.zeros(3)).dtype == np.float32  # float64 arrays become float32
    assert sn.tensor(np.zeros(3), dtype="float64").dtype == np.float64
    assert sn.tensor([1, 2]).dtype == np.int64
    assert sn.tensor([True, False]).dtype == np.bool_
    assert sn.tensor(3.0).shape == ()


def test_default_dtype_switch_globally_and_in_a_block():
    with sn.default_dtype("float64"):
        assert sn.tensor([1.0]).dtype == np.float64
        assert sn.zeros((2,)).dtype == np.float64
    assert sn.tensor([1.0]).dtype == np.float32
    sn.set_default_dtype("float64")
    try:
        assert sn.ones(2).dtype == np.float64
    finally:
        sn.set_default_dtype("float32")
    with pytest.raises(TypeError, match="must be a floating dtype"):
        sn.set_default_dtype("int32")


def test_arrays_are_shared_when_no_conversion_is_needed():
    a = np.zeros(3, dtype=np.float32)
    t = sn.tensor(a)
    t.data[0] = 5.0
    assert a[0] == 5.0


def test_conversions():
    t = sn.tensor([[1.5, 2.5]])
    assert isinstance(t.numpy(), np.ndarray)
    assert t.tolist() == [[1.5, 2.5]]
    assert t[0, 1].item() == 2.5
    assert float(t[0, 0]) == 1.5
    assert len(t) == 1 and t.ndim == 2 and t.size == 2
    assert [row.shape for row in t] == [(2,)]


def test_repr_shows_values_dtype_and_op():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "Tensor([1., 2.], dtype=float32, requires_grad=True)"
    assert repr(x * 2) == "Tensor([2., 4.], dtype=float32, op=mul)"


def test_comparisons_give_boolean_constant_tensors():
    x = sn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal((x == 2.0).data, [False, True, False])
    assert hash(x) == id(x) or isinstance(hash(x), int)


def test_numpy_operands_on_the_left_dispatch_to_tensor():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 2.0]) * x
    assert isinstance(y, sn.Tensor) and y.requires_grad


def test_new_rng_is_seeded_and_passes_generators_through():
    a = sn.new_rng(7).standard_normal(3)
    b = sn.new_rng(7).standard_normal(3)
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    assert sn.new_rng(g) is g


@pytest.mark.parametrize("make", [sn.zeros, sn.ones, lambda s, dtype: sn.full(s, 2.0, dtype)])
def test_creation_functions_respect_dtype(make):
    assert make((2,), dtype="float64").dtype == np.float64
    assert make((2,), dtype=None).dtype == np.float32
    x = sn.zeros((2, 1), dtype="float64")
    assert sn.zeros_like(x).dtype == np.float64 and sn.ones_like(x).shape == (2, 1)
