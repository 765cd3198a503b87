"""ops._util.scalar_array: a 0-d operand that gives the bits a Python scalar gives (NEP 50)."""

import numpy as np
import pytest

from sinapsi.ops._util import scalar_array


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("value", [1.0, 1.0 / 3.0, 1.0 / 7.0, 0.1, 1e-3])
def test_the_same_bits_as_the_python_scalar(dtype, value):
    a = np.random.default_rng(0).standard_normal(50).astype(dtype)
    s = scalar_array(np, value, np.dtype(dtype))
    assert s.shape == () and s.dtype == dtype
    for op in (np.multiply, np.subtract, np.add, np.divide):
        expected = op(a, value)
        got = op(a, s)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
        np.testing.assert_array_equal(op(s, a).view(np.uint8), op(value, a).view(np.uint8))


def test_cached_and_read_only():
    a = scalar_array(np, 0.5, np.dtype(np.float32))
    assert scalar_array(np, 0.5, np.dtype(np.float32)) is a
    assert scalar_array(np, 0.5, np.dtype(np.float64)) is not a
    with pytest.raises(ValueError):
        a[...] = 2.0
