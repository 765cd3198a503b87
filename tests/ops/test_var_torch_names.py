"""var with PyTorch's names: dim=/keepdim= as for sum and mean, correction= (and the older
unbiased=) as ddof. torch divides by n - 1 by default and NumPy by n, so var(dim=...) with no
correction says to choose one instead of silently giving NumPy's value to torch code."""

import numpy as np
import pytest
import torch

import sinapsi as sn

X = np.array([[1.0, 3.0, 4.0], [0.0, -2.0, 5.0]])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        ({"dim": 1, "correction": 1}, {"dim": 1}),
        (
            {"dim": 0, "keepdim": True, "correction": 0},
            {"dim": 0, "keepdim": True, "correction": 0},
        ),  # noqa: E501
        ({"dim": 1, "unbiased": False}, {"dim": 1, "unbiased": False}),
        ({"correction": 1}, {}),
        ({"axis": 1, "ddof": 1}, {"dim": 1}),
    ],
)
def test_var_takes_torchs_names_and_matches_torch(ours, theirs):
    x = sn.tensor(X, dtype="float64", requires_grad=True)
    t = torch.tensor(X, requires_grad=True)
    for got in (x.var(**ours), sn.var(x, **ours)):
        want = t.var(**theirs)
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-12)
    x.var(**ours).sum().backward()
    t.var(**theirs).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


def test_var_with_dim_and_no_correction_asks_which_one():
    with pytest.raises(TypeError, match=r"correction=1.*ddof=0") as e:
        sn.tensor(X).var(dim=1)
    assert "\n" not in str(e.value)
    np.testing.assert_allclose(sn.tensor(X).var(axis=1).data, X.var(axis=1), rtol=1e-6)  # NumPy's
    with pytest.raises(TypeError, match=r"ddof=1.*correction=0"):
        sn.var(sn.tensor(X), ddof=1, correction=0)
