"""The public gradient checker: passes correct backwards, catches wrong ones, refuses float32."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi.autograd import make_result


def wrong_square(x):
    """x**2 with a backward that forgets the factor 2."""
    return make_result(x.data**2, "wrong_square", (x,), lambda g: (g * x.data,))


def test_passes_a_correct_composite_with_several_inputs_and_outputs():
    rng = np.random.default_rng(0)
    a = sn.tensor(rng.standard_normal((3, 2)), dtype="float64", requires_grad=True)
    b = sn.tensor(rng.standard_normal((2,)), dtype="float64", requires_grad=True)
    assert sn.gradcheck(lambda a, b: ((a * b).tanh(), (a @ b).exp()), [a, b])
    assert sn.gradcheck(lambda a, b: (a * b).tanh(), [a, b], mode="directional")


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_catches_a_wrong_backward(mode):
    x = sn.tensor([0.5, 1.5, -2.0], dtype="float64", requires_grad=True)
    with pytest.raises(sn.GradcheckError, match="backward gives"):
        sn.gradcheck(wrong_square, [x], mode=mode)


def test_refuses_float32_inputs():
    x = sn.tensor([1.0], requires_grad=True)
    with pytest.raises(
        TypeError, match="input 0 has dtype float32; finite differences need float64"
    ):
        sn.gradcheck(lambda t: t * 2, [x])


def test_needs_something_to_check():
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        sn.gradcheck(lambda t: t * 2, [sn.tensor([1.0], dtype="float64")])


def test_leaves_inputs_and_their_gradients_unchanged():
    x = sn.tensor([0.3, 0.7], dtype="float64", requires_grad=True)
    x.grad = np.array([9.0, 9.0])
    before = x.data.copy()
    sn.gradcheck(lambda t: t.sigmoid(), [x])
    np.testing.assert_array_equal(x.data, before)
    np.testing.assert_array_equal(x.grad, [9.0, 9.0])
