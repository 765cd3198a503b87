"""The optional numba optimizer kernels (Adam, sparse SGD): bit-identical to the NumPy paths,
equal to PyTorch, and the NumPy fallback whenever they do not apply."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import _numba as switch
from sinapsi import nn, optim
from sinapsi.optim import _numba
from sinapsi.testing import assert_close

pytest.importorskip("numba")


@pytest.fixture
def numba_on():
    with _numba.use_kernels(True):
        yield


def run_adam(enabled, dtype, shape, steps=6, cls=optim.Adam, **options):
    """Parameters after ``steps`` Adam steps on seeded gradients, numba on or off."""
    with _numba.use_kernels(enabled):
        rng = np.random.default_rng(3)
        p = sn.tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)
        opt = cls([p], **options)
        for _ in range(steps):
            p.grad = rng.standard_normal(shape).astype(dtype)
            opt.step()
        state = opt.state[id(p)]
        return p.data.copy(), state["exp_avg"].copy(), state["exp_avg_sq"].copy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "cls, options",
    [
        (optim.Adam, {"lr": 0.01}),
        (optim.Adam, {"lr": 0.003, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 1e-2}),
        (optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}),
    ],
)
def test_kernel_is_bit_identical_to_numpy(dtype, cls, options):
    shape = (64, 70)
    fused = run_adam(True, dtype, shape, cls=cls, **options)
    plain = run_adam(False, dtype, shape, cls=cls, **options)
    for a, b in zip(fused, plain):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_kernel_runs_only_where_it_applies(numba_on):
    rng = np.random.default_rng(0)

    def arrays(shape, dtype=np.float32):
        return [rng.standard_normal(shape).astype(dtype) for _ in range(4)]

    args = (0.9, 0.999, 1e-3, 1e-8, 1)
    assert _numba.adam_update(*arrays((64, 64)), *args)
    assert _numba.adam_update(*arrays((3,)), *args)
    p, g, m, v = arrays((64, 128))
    before = p.copy()
    assert not _numba.adam_update(p[:, ::2], g[:, ::2], m[:, ::2], v[:, ::2], *args)
    np.testing.assert_array_equal(p, before)  # untouched when it declines
    p, g, m, v = arrays((64, 64))
    assert not _numba.adam_update(p, g.astype(np.float64), m, v, *args)  # mixed dtypes
    assert not _numba.adam_update(*arrays((64, 64), np.float16), *args)
    _numba.set_enabled(False)
    assert not _numba.enabled()
    assert not _numba.adam_update(*arrays((64, 64)), *args)


def test_numba_adam_matches_torch(numba_on):
    """30 steps through the kernel equal PyTorch's Adam."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 64))
    y = rng.integers(0, 5, 16)
    ours = nn.Sequential(nn.Linear(64, 64, rng=1), nn.ReLU(), nn.Linear(64, 5, rng=2))
    ours = ours.astype("float64")
    theirs = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 5))
    theirs = theirs.double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.data))
    opt = optim.Adam(ours.parameters(), lr=0.01, weight_decay=1e-3)
    topt = torch.optim.Adam(theirs.parameters(), lr=0.01, weight_decay=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(30):
        opt.zero_grad()
        nn.cross_entropy(ours(sn.tensor(x, dtype="float64")), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(xt), yt).backward()
        topt.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.data, q.detach().numpy(), rtol=1e-10)


def test_environment_variable_disables(monkeypatch):
    import importlib

    monkeypatch.setenv("SINAPSI_NUMBA", "0")
    module = importlib.reload(switch)
    try:
        assert not module.enabled()
    finally:
        monkeypatch.delenv("SINAPSI_NUMBA")
        importlib.reload(switch)
    assert _numba.enabled()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_rows_kernel_is_bit_identical_to_numpy(dtype, numba_on):
    """word2vec's sparse SGD: ``w[rows] -= grad * lr`` (and the whole table) in one loop gives
    NumPy's result exactly, leaves the other rows alone, and declines what it cannot take."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((50, 7)).astype(dtype)
    rows = np.array([3, 0, 49, 17])
    g = rng.standard_normal((4, 7)).astype(dtype)
    expect = w.copy()
    expect[rows] -= (g * 0.025).astype(dtype)
    got = w.copy()
    assert _numba.sgd_rows_update(got, rows, g, 0.025)
    np.testing.assert_array_equal(got, expect)
    whole = rng.standard_normal((50, 7)).astype(dtype)
    expect_whole = w - whole * 0.025
    got = w.copy()
    assert _numba.sgd_rows_update(got, None, whole, 0.025)
    np.testing.assert_array_equal(got, expect_whole)
    assert not _numba.sgd_rows_update(w, rows, g.astype(np.float16), 0.1)  # mixed dtypes
    assert not _numba.sgd_rows_update(w, rows, g[:, :3], 0.1)  # wrong width
    assert not _numba.sgd_rows_update(w, None, g, 0.1)  # whole table needs a whole gradient
    assert not _numba.sgd_rows_update(w[:, ::2], rows, g[:, :4], 0.1)  # not contiguous
    _numba.set_enabled(False)
    assert not _numba.sgd_rows_update(w, rows, g, 0.1)
