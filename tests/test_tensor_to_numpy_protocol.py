"""``np.asarray(tensor)`` gives the values, as for a torch tensor: scikit-learn's metrics and
NumPy functions take a prediction tensor. It gave an object array of 0-d tensors, and
``accuracy_score(y, pred.argmax(1))`` failed."""

import numpy as np
from sklearn.metrics import accuracy_score

import sinapsi as sn


def test_asarray_gives_the_values_in_their_dtype():
    t = sn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.shape == (2, 2)
    np.testing.assert_array_equal(a, t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t, copy=True) is not t.data
    assert np.asarray(sn.tensor(3)).shape == () and np.asarray(sn.tensor(3)).dtype == np.int64


def test_scikit_learn_metrics_take_tensors():
    logits = sn.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]])
    assert accuracy_score(np.array([1, 0, 0]), logits.argmax(1)) == 2 / 3


def test_numpy_operands_still_give_tensors():
    t = sn.tensor([1.0, 2.0], requires_grad=True)
    for out in (np.ones(2) + t, np.float32(2.0) * t, np.ones(2) - t):
        assert isinstance(out, sn.Tensor) and out.requires_grad and out.dtype == np.float32
