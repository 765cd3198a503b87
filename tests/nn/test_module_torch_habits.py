"""Module and optimizer methods PyTorch code calls, met porting tutorials: apply (custom
initialization), named_children, zero_grad(set_to_none=...), checked against torch."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn, optim


def test_apply_visits_children_first_then_self_like_torch_and_returns_self():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    twin = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 1))
    )
    ours, theirs = [], []
    assert model.apply(lambda m: ours.append(type(m).__name__)) is model
    twin.apply(lambda m: theirs.append(type(m).__name__))
    assert ours == theirs


def test_apply_for_custom_initialization_as_in_torch_tutorials():
    def init_weights(m):
        if isinstance(m, nn.Linear):
            m.weight.data[...] = 0.5
            m.bias.data[...] = 0.0

    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    model.apply(init_weights)
    assert all((p.data == 0.5).all() for n, p in model.named_parameters() if "weight" in n)


def test_named_children_matches_torch():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU()))
    twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.ReLU()))
    assert [(n, type(m).__name__) for n, m in model.named_children()] == [
        (n, type(m).__name__) for n, m in twin.named_children()
    ]


@pytest.mark.parametrize("owner", ["module", "optimizer"])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_set_to_none_as_torch(owner, set_to_none):
    model = nn.Linear(2, 1, rng=0)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    target = model if owner == "module" else optim.SGD(model.parameters(), lr=0.1)
    target.zero_grad(set_to_none=set_to_none)
    for p in model.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad.shape == p.shape and p.grad.dtype == p.dtype and not p.grad.any()


@pytest.mark.parametrize(
    "make", [lambda: nn.ReLU(inplace=True), lambda: nn.LeakyReLU(0.2, inplace=True),
             lambda: nn.ELU(inplace=False)], ids=["relu", "leaky_relu", "elu"],
)  # fmt: skip
def test_activations_take_torchs_inplace_flag_with_the_same_result(make):
    x = sn.tensor([[-1.0, 0.5]])
    layer = make()
    out = layer(x)
    np.testing.assert_array_equal(x.data, [[-1.0, 0.5]])  # the input is never overwritten
    twin = {"ReLU": torch.nn.ReLU(), "LeakyReLU": torch.nn.LeakyReLU(0.2), "ELU": torch.nn.ELU()}
    np.testing.assert_allclose(out.data, twin[type(layer).__name__](torch.tensor(x.data)).numpy())
    assert "inplace" not in layer.get_config()


def test_an_unknown_constructor_argument_names_the_layer_not_module():
    with pytest.raises(TypeError, match=r"^Tanh\(\) takes no arguments.*inplace=True") as e:
        nn.Tanh(inplace=True)
    assert "Module.__init__" not in str(e.value)
