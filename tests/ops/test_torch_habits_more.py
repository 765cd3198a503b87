"""More PyTorch habits met porting the quickstart and micrograd: Tensor.pow, Tensor.clamp
(torch's name for clip) and Module.float()/double(), each checked against torch."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn

X = np.array([[-1.5, 0.25, 2.0], [3.0, -0.5, 0.0]])


@pytest.mark.parametrize("exponent", [2, 0.5, -1.0, "tensor"])
def test_pow_method_matches_torch_values_and_gradients(exponent):
    base = np.abs(X) + 0.5
    e_ours = sn.tensor(np.full(3, 1.5), dtype="float64") if exponent == "tensor" else exponent
    e_torch = torch.tensor(np.full(3, 1.5)) if exponent == "tensor" else exponent
    x = sn.tensor(base, dtype="float64", requires_grad=True)
    t = torch.tensor(base, requires_grad=True)
    x.pow(e_ours).sum().backward()
    t.pow(e_torch).sum().backward()
    np.testing.assert_allclose(x.pow(e_ours).data, t.pow(e_torch).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs", [{"min": 0.0}, {"max": 1.0}, {"min": -1.0, "max": 1.0}], ids=["min", "max", "both"]
)
def test_clamp_method_matches_torch_values_and_gradients(kwargs):
    x = sn.tensor(X, dtype="float64", requires_grad=True)
    t = torch.tensor(X, requires_grad=True)
    x.clamp(**kwargs).sum().backward()
    t.clamp(**kwargs).sum().backward()
    np.testing.assert_array_equal(x.clamp(**kwargs).data, t.clamp(**kwargs).detach().numpy())
    np.testing.assert_array_equal(x.grad, t.grad.numpy())
    np.testing.assert_array_equal(sn.tensor(X).clamp(-1.0, 1.0).data, np.clip(X, -1, 1))


@pytest.mark.parametrize("method, dtype", [("double", np.float64), ("float", np.float32)])
def test_module_float_and_double_convert_parameters_and_buffers_in_place(method, dtype):
    start = "float32" if method == "double" else "float64"
    with sn.default_dtype(start):
        model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Linear(4, 2, rng=1))
    params = list(model.parameters())
    assert getattr(model, method)() is model  # returns self, as torch's
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]  # optimizers keep them
    assert all(p.dtype == dtype for p in model.parameters())
    assert all(b.dtype == dtype for _, b in model.named_buffers() if b.dtype.kind == "f")
    out = model(sn.tensor(X, dtype=str(np.dtype(dtype))))
    assert out.dtype == dtype
