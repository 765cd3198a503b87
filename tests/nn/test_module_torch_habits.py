"""Module and optimizer methods PyTorch code calls, met porting tutorials: apply (custom
initialization), named_children, zero_grad(set_to_none=...), checked against torch."""

import numpy as np
import pytest
import torch

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
