"""Layers against PyTorch with identical weights (float64 1e-10, float32 1e-5), train and eval."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn
from sinapsi.testing import check_module
from strategies import normal

ACTIVATION_MODULES = {
    "Sigmoid": (nn.Sigmoid(), torch.nn.Sigmoid()),
    "Tanh": (nn.Tanh(), torch.nn.Tanh()),
    "ReLU": (nn.ReLU(), torch.nn.ReLU()),
    "LeakyReLU": (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    "ELU": (nn.ELU(0.7), torch.nn.ELU(0.7)),
    "GELU": (nn.GELU(), torch.nn.GELU()),
    "GELU_tanh": (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    "Softplus": (nn.Softplus(2.0), torch.nn.Softplus(2.0)),
    "Softmax": (nn.Softmax(), torch.nn.Softmax(-1)),
    "LogSoftmax": (nn.LogSoftmax(1), torch.nn.LogSoftmax(1)),
    "Identity": (nn.Identity(), torch.nn.Identity()),
    "Flatten": (nn.Flatten(), torch.nn.Flatten()),
}


@pytest.mark.parametrize("name", sorted(ACTIVATION_MODULES))
@pytest.mark.parametrize("training", [True, False])
def test_parameterless_layers_match_torch(name, training):
    ours, theirs = ACTIVATION_MODULES[name]
    x = normal(0, (4, 3, 2)) * 3 if name == "Flatten" else normal(0, (4, 5)) * 3
    check_module(ours, theirs, [x], training=training)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(6, 5), (2, 3, 5), (5,)])
@pytest.mark.parametrize("init", ["default", "he", "xavier", "lecun"])
def test_linear_matches_torch(bias, x_shape, init):
    check_module(nn.Linear(5, 3, bias=bias, init=init, rng=0), torch.nn.Linear(5, 3, bias=bias),
                 [normal(1, x_shape)])  # fmt: skip


def test_linear_weights_and_biases_are_inspectable_arrays():
    layer = nn.Linear(2, 3, rng=0)
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (3,)
    assert isinstance(layer.weight.data, np.ndarray) and layer.weight.dtype == np.float32
    assert layer.weight.requires_grad


def test_linear_checks_input_features_and_arguments():
    layer = nn.Linear(4, 2)
    with pytest.raises(
        ValueError,
        match=r"Linear\(4 -> 2\) expects inputs whose last axis has 4 "
        r"features; got shape \(3, 5\)",
    ):
        layer(sn.tensor(np.ones((3, 5))))
    with pytest.raises(
        ValueError,
        match=r"out_features must be a positive integer. Received: "
        r"out_features=0",
    ):
        nn.Linear(3, 0)
    with pytest.raises(ValueError, match=r"'init' parameter .* must be a str among .*'he'"):
        nn.Linear(3, 2, init="magic")


def test_linear_seeds_are_reproducible():
    a, b = nn.Linear(3, 3, rng=7), nn.Linear(3, 3, rng=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(3, 3, rng=8).weight.data)


def test_dropout_keeps_the_expected_value_and_is_reproducible():
    x = sn.tensor(np.ones((200, 500)))
    out = nn.Dropout(0.3, rng=0)(x).data
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 5 * np.sqrt(0.3 * 0.7 / out.size)
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 5 * np.sqrt(0.3 / 0.7 / out.size)
    np.testing.assert_array_equal(nn.Dropout(0.3, rng=0)(x).data, out)  # same seed, same mask
    assert not np.array_equal(nn.Dropout(0.3, rng=1)(x).data, out)


def test_dropout_gradient_uses_the_same_mask_and_eval_is_identity():
    layer = nn.Dropout(0.5, rng=3)
    x = sn.tensor(np.ones((4, 6)), requires_grad=True)
    y = layer(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # d(sum)/dx = mask * 2 = y for x = 1
    layer.eval()
    assert layer(x) is x
    assert (nn.Dropout(1.0)(x).data == 0).all() and nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]. Received: p=1.5"):
        nn.Dropout(1.5)


def test_embedding_matches_torch_and_only_touches_used_rows():
    ids = np.array([[1, 4, 4], [0, 1, 9]])
    check_module(nn.Embedding(10, 3, rng=0), torch.nn.Embedding(10, 3), [ids])
    emb = nn.Embedding(10, 3, rng=0)
    emb(sn.tensor(ids)).sum().backward()
    touched = np.flatnonzero(np.abs(emb.weight.grad).sum(axis=1))
    assert set(touched) == {0, 1, 4, 9}
    np.testing.assert_array_equal(emb.weight.grad[4], [2.0, 2.0, 2.0])  # used twice


def test_embedding_errors():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"id 5 is out of range for 5 embeddings"):
        emb(np.array([0, 5]))
    with pytest.raises(IndexError, match=r"id -1 is out of range"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match=r"Embedding expects integer ids; got dtype float"):
        emb(np.array([0.0, 1.0]))


def test_get_activation_by_name():
    assert isinstance(nn.get_activation("relu"), nn.ReLU)
    assert isinstance(nn.get_activation(None), nn.Identity)
    with pytest.raises(ValueError, match=r"'activation' parameter .* must be a str among .*'tanh'"):
        nn.get_activation("swishy")


def test_embedding_takes_a_given_table_as_it_is():
    """weight= (PyTorch's _weight): no draw, no copy in the layer's dtype; a wrong shape is
    refused with the shape expected."""
    table = np.arange(6, dtype=np.float32).reshape(3, 2)
    emb = nn.Embedding(3, 2, weight=table)
    assert emb.weight.data is table
    np.testing.assert_array_equal(emb(np.array([2, 0])).data, table[[2, 0]])
    with pytest.raises(ValueError, match=r"weight must have shape \(3, 2\)"):
        nn.Embedding(3, 2, weight=np.zeros((2, 3), np.float32))
