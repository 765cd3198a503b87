"""batch_norm of (N, C) and (N, C, L) input through the numba kernels (the MLP's BatchNorm1d):
against torch with the kernels on and off, the kernels really taken (counted) where the memory
allows and not elsewhere, and sinapsi.capture's replay equal to the eager step bit for bit."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import _numba, nn, ops, optim
from sinapsi.testing import check_module, check_op

torch = pytest.importorskip("torch")
F = torch.nn.functional

ROWS = ["bn_stats_rows", "bn_apply_rows", "bn_grad_sums_rows", "bn_dx_rows"]
PLANES = ["bn_stats_planes", "bn_apply_planes", "bn_grad_sums_planes", "bn_dx_planes"]


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def kernels(request):
    with _numba.use_kernels(request.param):
        yield request.param


@pytest.fixture
def calls(monkeypatch):
    """Counts of the batch-norm kernels' calls (empty when numba is not installed)."""
    counts: dict[str, int] = {}
    with _numba.use_kernels(True):
        kern = _numba.kernels("sinapsi.ops._pool_kernels")
    if kern is None:
        return counts
    for name in [*ROWS, *PLANES, "bn_running"]:
        counts[name] = 0
        real = getattr(kern, name)

        def counting(*args, _real=real, _name=name):
            counts[_name] += 1
            return _real(*args)

        monkeypatch.setattr(kern, name, counting)
    return counts


def draw(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2.0 + 0.5


def lay_out(a, layout):
    """``a`` with the same values in another memory layout."""
    if layout == "channels_last":  # (N, L, C) memory
        return np.ascontiguousarray(np.moveaxis(a, 1, -1)).transpose(0, 2, 1)
    if layout == "strided":
        return np.repeat(a, 2, axis=-1)[..., ::2]
    return a


@pytest.mark.parametrize(
    "shape, layout",
    [((6, 5), "c"), ((2, 3), "c"), ((5, 4), "strided"), ((4, 3, 5), "c"),
     ((4, 3, 5), "channels_last"), ((3, 4, 1), "c"), ((3, 1, 4), "c")],
)  # fmt: skip
def test_batch_norm_of_rows_and_sequences_matches_torch_in_training(shape, layout, kernels):
    c = shape[1]

    def ours(x, weight, bias):
        rm, rv = np.zeros(c, x.dtype), np.ones(c, x.dtype)
        x = sn.Tensor(lay_out(x.data, layout), dtype=x.dtype) if layout != "c" else x
        return ops.batch_norm(x, weight, bias, rm, rv, True, 0.1, 1e-5)

    def theirs(x, weight, bias):
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=1e-5)

    inputs = [draw(shape), draw((c,), 1), draw((c,), 2)]
    if layout == "c":
        check_op(ours, theirs, inputs)
    else:  # our input is a copy: compare outputs and the weights' gradients
        check_op(ours, theirs, inputs, requires_grad=[False, True, True], gradcheck_inputs=False)


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2)])
def test_batch_norm_of_rows_in_eval_matches_torch(shape, kernels):
    rm, rv = draw((4,), 3), np.abs(draw((4,), 4)) + 0.5

    def ours(x, weight, bias):
        return ops.batch_norm(x, weight, bias, rm.astype(x.dtype), rv.astype(x.dtype), False,
                              0.1, 1e-5)  # fmt: skip

    def theirs(x, weight, bias):
        return F.batch_norm(x, torch.tensor(rm, dtype=x.dtype), torch.tensor(rv, dtype=x.dtype),
                            weight, bias, training=False, eps=1e-5)  # fmt: skip

    check_op(ours, theirs, [draw(shape), draw((4,), 1), draw((4,), 2)])


@pytest.mark.parametrize(
    "kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False}]
)
@pytest.mark.parametrize("shape", [(8, 5), (4, 5, 3)])
def test_batchnorm1d_training_steps_match_torch(shape, kwargs, kernels):
    check_module(nn.BatchNorm1d(5, **kwargs), torch.nn.BatchNorm1d(5, **kwargs), [draw(shape, 5)],
                 steps=3)  # fmt: skip


def test_batch_norm_of_rows_keeps_float64_precision_far_from_zero(kernels):
    data = np.random.default_rng(0).standard_normal((64, 6)) + 1e4  # mean >> std
    x = sn.Tensor(data, dtype="float64", requires_grad=True)
    bn, tbn = nn.BatchNorm1d(6).astype("float64"), torch.nn.BatchNorm1d(6).double()
    out = bn(x)
    t = torch.tensor(data, requires_grad=True)
    ref = tbn(t)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-9)
    g = draw(data.shape, 9)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "shape, layout, expected",
    [((6, 5), "c", ROWS), ((4, 3, 5), "c", PLANES), ((4, 3, 5), "channels_last", ROWS),
     ((4, 3, 1), "c", ROWS), ((5, 4), "strided", [])],
)  # fmt: skip
def test_the_kernels_are_taken_where_the_memory_allows(shape, layout, expected, calls):
    if not calls:
        pytest.skip("numba is not installed")
    layer = nn.BatchNorm1d(shape[1], dtype="float32")
    x = sn.Tensor(lay_out(draw(shape).astype(np.float32), layout), requires_grad=True)
    with _numba.use_kernels(True):
        layer(x).backward(np.ones(shape, np.float32))
    taken = sorted(name for name, n in calls.items() if n)
    assert taken == sorted([*expected, "bn_running"] if expected else [])
    assert all(calls[name] == 1 for name in taken)
    calls.update(dict.fromkeys(calls, 0))
    with _numba.use_kernels(False):
        layer(x).backward(np.ones(shape, np.float32))
    assert not any(calls.values())


def _train(model, x, y, steps, captured, calls):
    """Losses of ``steps`` Adam steps, captured or eager; a captured run checks that its last
    step (a replay) ran the kernels: each of the two layers once forward and once backward."""
    opt = optim.Adam(list(model.parameters()), lr=0.01)
    step = sn.capture(model, nn.cross_entropy, opt) if captured else None
    losses = []
    for _ in range(steps):
        before = dict(calls)
        if captured:
            losses.append(step(x, y).data)
        else:
            opt.zero_grad()
            loss = nn.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.data)
    if captured:
        assert step.captured, step.reason
        if calls and _numba.enabled():
            assert all(calls[name] - before[name] == 2 for name in ROWS), (calls, before)
    return losses


def test_captured_batchnorm1d_steps_replay_the_kernels_bit_for_bit(kernels, calls):
    with sn.default_dtype("float32"):
        model = nn.Sequential(nn.Linear(6, 16, rng=0), nn.BatchNorm1d(16), nn.ReLU(),
                              nn.Linear(16, 16, rng=1), nn.BatchNorm1d(16, momentum=None),
                              nn.ReLU(), nn.Linear(16, 3, rng=2))  # fmt: skip
    twin = copy.deepcopy(model)
    rng = np.random.default_rng(0)
    x, y = sn.tensor(rng.standard_normal((12, 6)), dtype="float32"), rng.integers(0, 3, 12)
    losses = _train(model, x, y, 4, True, calls)
    if not kernels:
        assert not any(calls.values())
    np.testing.assert_array_equal(losses, _train(twin, x, y, 4, False, calls))
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    for (name, b), (_, c) in zip(model.named_buffers(), twin.named_buffers()):
        np.testing.assert_array_equal(b, c, err_msg=name)
