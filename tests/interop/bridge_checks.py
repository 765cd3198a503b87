"""The checks both torch-bridge test files (MLPs and convnets) share: equal state, a torch
forward on NumPy input, and one training step of a sinapsi model and of its ``to_torch`` twin
agreeing in outputs, state (running statistics moved) and every gradient."""

import numpy as np

import sinapsi as sn
from sinapsi.testing import assert_close

RTOL = {"float32": 1e-5, "float64": 1e-10}
DTYPES = ["float32", "float64"]


def torch_forward(module, x):
    """``module`` on the NumPy batch ``x``, as a NumPy array."""
    import torch

    return module(torch.from_numpy(x)).detach().numpy()


def assert_same_state(a, b):
    """Same ``state_dict`` keys in the same order, same dtypes, equal values bit for bit."""
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        va, vb = np.asarray(sa[key]), np.asarray(sb[key])
        assert va.dtype == vb.dtype, key
        np.testing.assert_array_equal(va, vb, err_msg=key)


def assert_same_training_step(model, module, x, dtype):
    """Forward, a random-weighted backward, then outputs, state and gradients compared.

    Gradients are compared relative to the largest one: a bias right before a batch norm has a
    zero gradient in exact arithmetic, so only rounding noise on both sides. Returns the scale.
    """
    import torch  # the test files skip themselves first when torch is missing

    out = model(sn.Tensor(x, dtype=dtype))  # one forward each: it moves the running stats
    weights = np.random.default_rng(5).normal(size=out.shape)
    (out * sn.Tensor(weights, dtype=dtype)).sum().backward()
    torch_out = module(torch.from_numpy(x))
    (torch_out * torch.from_numpy(weights.astype(dtype))).sum().backward()

    rtol = RTOL[dtype]
    assert_close(torch_out.detach().numpy(), out.data, rtol, what="outputs")
    torch_state = module.state_dict()
    for key, value in model.state_dict().items():
        assert_close(torch_state[key].numpy(), value, rtol, what=key)
    torch_params = dict(module.named_parameters())
    scale = max(float(np.abs(p.grad).max()) for p in model.parameters())
    for key, p in model.named_parameters():
        np.testing.assert_allclose(
            torch_params[key].grad.numpy(), p.grad, rtol=100 * rtol, atol=100 * rtol * scale,
            err_msg=f"{key}.grad",
        )  # fmt: skip
    return scale
