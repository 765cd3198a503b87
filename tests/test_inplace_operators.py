"""``p -= lr * p.grad``: PyTorch's hand-written SGD step (and micrograd's). Without in-place
operators Python rebound ``p`` to a new tensor and the model silently never changed. They
now update the tensor itself, as torch does, and refuse what torch refuses."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn


def test_hand_written_sgd_step_under_no_grad_updates_the_model_as_torch():
    model = nn.Linear(3, 2, rng=0).astype("float64")
    twin = torch.nn.Linear(3, 2).double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    x = np.arange(6.0).reshape(2, 3)
    for _ in range(3):
        model.zero_grad()
        (model(sn.tensor(x, dtype="float64")) ** 2).sum().backward()
        twin.zero_grad()
        (twin(torch.tensor(x)) ** 2).sum().backward()
        with sn.no_grad():
            for p in model.parameters():
                p -= 0.01 * p.grad
        with torch.no_grad():
            for p in twin.parameters():
                p -= 0.01 * p.grad
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v, twin.state_dict()[k].numpy(), rtol=1e-12)


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_in_place_operators_keep_the_tensor_and_match_torch(op):
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    x, t = sn.tensor(a), torch.tensor(a)
    alias = x
    namespace = {"x": x, "t": t, "b": np.float32(2.0)}
    with sn.no_grad():  # where torch code changes tensors in place
        exec(f"x {op} b\nt {op} b", namespace)
    assert namespace["x"] is alias and alias.dtype == np.float32
    np.testing.assert_array_equal(alias.data, namespace["t"].numpy())


def test_a_leaf_that_requires_grad_is_refused_while_recording_as_in_torch():
    p = sn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"no_grad") as e:
        p -= 0.1
    assert "\n" not in str(e.value)
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_in_the_graph_an_in_place_operator_is_a_new_node_with_the_right_gradient():
    w = sn.tensor([1.0, 2.0], requires_grad=True)
    h = w * 3.0
    h += w  # as h = h + w: the gradient is 3 + 1
    h.sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, 4.0])


def test_while_recording_a_constant_gets_a_new_tensor_and_saved_values_stay():
    w = sn.tensor([1.0, 2.0], requires_grad=True)
    x = sn.tensor([3.0, 4.0])
    before = x
    loss = (w * x).sum()
    x += 10.0  # torch raises at backward; here x becomes a new tensor, as x = x + 10
    loss.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])
    np.testing.assert_array_equal(before.data, [3.0, 4.0])
    np.testing.assert_array_equal(x.data, [13.0, 14.0])


@sn.no_grad()
def test_in_place_shape_or_dtype_change_is_refused_like_torch():
    x = sn.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*shape \(2,\)"):
        x += sn.tensor([[1.0], [2.0]])
    i = sn.tensor([1, 2])
    with pytest.raises(TypeError, match=r"dtype float32.*dtype int64"):
        i *= 0.5
    with pytest.raises(TypeError, match=r"float64"):
        x += sn.tensor([1.0, 1.0], dtype="float64")  # never mixed silently
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
