"""Every optimizer, step for step against PyTorch: 100 steps on the same network, data and
initial weights; parameters equal after every step (float64 rel 1e-10, float32 rel 1e-4).

Adding an optimizer to these tests = one entry in OPTIMIZERS (PyTorch's OptimizerInfo idea).
"""

import math

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.testing import assert_close

# name -> (sinapsi class, torch class, list of option dicts)
OPTIMIZERS = {
    "SGD": (optim.SGD, torch.optim.SGD, [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.9},  # the notes' v = bv + (1-b)g
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 1e-2},
    ]),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad, [
        {"lr": 0.1},
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 1e-2, "initial_accumulator_value": 0.1},
    ]),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop, [
        {"lr": 0.01},
        {"lr": 0.01, "momentum": 0.9, "centered": True},
        {"lr": 0.005, "alpha": 0.9, "weight_decay": 1e-2, "momentum": 0.5},
    ]),
    "Adam": (optim.Adam, torch.optim.Adam, [
        {"lr": 0.01},
        {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True},
        {"lr": 0.01, "weight_decay": 1e-2, "eps": 1e-6},
    ]),
    "AdamW": (optim.AdamW, torch.optim.AdamW, [
        {"lr": 0.01},
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
    ]),
}  # fmt: skip

CASES = [(name, i) for name, (_, _, options) in OPTIMIZERS.items() for i in range(len(options))]
STEPS = 100
TOL = {"float64": 1e-10, "float32": 1e-4}


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 4))
    y = rng.integers(0, 3, size=32)
    return x, y


def twin_models(dtype):
    ours = nn.Sequential(nn.Linear(4, 8, rng=1), nn.Tanh(), nn.Linear(8, 3, rng=2)).astype(dtype)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    theirs.to(getattr(torch, dtype))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def batches(x, y, step):
    """A fixed, varying mini-batch per step (no shuffling, so both see the same data)."""
    i = (step * 8) % len(x)
    return x[i : i + 8], y[i : i + 8]


def run_ours(model, opt, x, y, steps, dtype, start=0):
    history = []
    for step in range(start, start + steps):
        xb, yb = batches(x, y, step)
        opt.zero_grad()
        nn.cross_entropy(model(sn.tensor(xb, dtype=dtype)), yb).backward()
        opt.step()
        history.append([p.data.copy() for p in model.parameters()])
    return history


def run_theirs(model, opt, x, y, steps, dtype):
    history = []
    for step in range(steps):
        xb, yb = batches(x, y, step)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(
            model(torch.tensor(xb, dtype=getattr(torch, dtype))), torch.tensor(yb)
        ).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in model.parameters()])
    return history


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,index", CASES)
def test_optimizer_matches_torch_step_for_step(name, index, dtype):
    ours_cls, theirs_cls, options = OPTIMIZERS[name]
    kwargs = options[index]
    x, y = make_data()
    ours, theirs = twin_models(dtype)
    ours_hist = run_ours(ours, ours_cls(ours.parameters(), **kwargs), x, y, STEPS, dtype)
    theirs_hist = run_theirs(theirs, theirs_cls(theirs.parameters(), **kwargs), x, y, STEPS, dtype)
    for step, (a, b) in enumerate(zip(ours_hist, theirs_hist)):
        for k, (pa, pb) in enumerate(zip(a, b)):
            assert pa.dtype == np.dtype(dtype)
            assert_close(pa, pb, TOL[dtype], f"{name}{kwargs} step {step + 1} parameter {k}")


@pytest.mark.parametrize("name,index", CASES)
def test_state_dict_resume_is_bit_identical(name, index):
    """50 steps, save model + optimizer state, rebuild both, load, 50 more == 100 at once."""
    ours_cls, _, options = OPTIMIZERS[name]
    kwargs = options[index]
    x, y = make_data()
    straight, _ = twin_models("float64")
    run_ours(straight, ours_cls(straight.parameters(), **kwargs), x, y, 100, "float64")

    first, _ = twin_models("float64")
    opt = ours_cls(first.parameters(), **kwargs)
    run_ours(first, opt, x, y, 50, "float64")
    model_state, opt_state = first.state_dict(), opt.state_dict()
    for p in first.parameters():  # the saved copies must not follow later changes
        p.data += 1.0
    resumed, _ = twin_models("float64")
    resumed.load_state_dict(model_state)
    opt2 = ours_cls(resumed.parameters(), **kwargs)
    opt2.load_state_dict(opt_state)
    run_ours(resumed, opt2, x, y, 50, "float64", start=50)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_parameter_groups_have_their_own_hyper_parameters():
    x, y = make_data()
    for dtype in ["float64"]:
        ours, theirs = twin_models(dtype)
        groups = lambda m: [  # noqa: E731
            {"params": list(m[0].parameters()), "lr": 0.1},
            {"params": list(m[2].parameters())},
        ]
        ours_hist = run_ours(ours, optim.SGD(groups(ours), lr=0.01, momentum=0.9), x, y, 20, dtype)
        theirs_hist = run_theirs(
            theirs, torch.optim.SGD(groups(theirs), lr=0.01, momentum=0.9), x, y, 20, dtype
        )
        for a, b in zip(ours_hist[-1], theirs_hist[-1]):
            assert_close(a, b, 1e-10)


# ------------------------------------------------------------------------------ clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((4, 5)), rng.standard_normal(5), rng.standard_normal((2, 2))]
    ours = [sn.tensor(np.zeros_like(g), dtype="float64", requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad = g.copy()
        tp.grad = torch.tensor(g)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for p, tp in zip(ours, theirs):
        assert_close(p.grad, tp.grad.numpy(), 1e-12)


def test_clip_grad_value_matches_torch():
    g = np.random.default_rng(4).standard_normal((6, 3)) * 3
    p = sn.tensor(np.zeros_like(g), dtype="float64", requires_grad=True)
    tp = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
    p.grad, tp.grad = g.copy(), torch.tensor(g)
    optim.clip_grad_value_([p], 1.5)
    torch.nn.utils.clip_grad_value_([tp], 1.5)
    np.testing.assert_array_equal(p.grad, tp.grad.numpy())


# --------------------------------------------------------------------------- bad input
def params():
    return [nn.Parameter(np.ones(3))]


@pytest.mark.parametrize(
    "make,pattern",
    [
        (lambda: optim.SGD(params(), lr=0), r"Invalid learning rate: 0"),
        (lambda: optim.SGD(params(), lr=-1.0), r"Invalid learning rate: -1.0"),
        (lambda: optim.Adam(params(), lr=float("nan")), r"Invalid learning rate: nan"),
        (lambda: optim.Adam(params(), betas=(1.0, 0.999)), r"Invalid beta1 value: 1.0"),
        (lambda: optim.Adam(params(), betas=(0.9, -0.1)), r"Invalid beta2 value: -0.1"),
        (lambda: optim.SGD(params(), momentum=1.2), r"Invalid momentum value: 1.2"),
        (lambda: optim.SGD(params(), nesterov=True), r"Nesterov momentum requires a momentum"),
        (lambda: optim.RMSprop(params(), alpha=1.5), r"Invalid alpha value: 1.5"),
        (lambda: optim.Adam(params(), weight_decay=-1), r"Invalid weight_decay value: -1"),
        (lambda: optim.SGD([]), r"empty parameter list"),
        (lambda: optim.SGD(nn.Parameter([1.0])), r"not a single Tensor"),
        (lambda: optim.get("adamm", params()), r"must be a str among \{'adagrad', 'adam'"),
    ],
)
def test_bad_hyper_parameters_are_clear_errors(make, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        make()


def test_nonfinite_gradient_raises_or_skips_with_a_warning():
    p = nn.Parameter(np.ones(3))
    p.grad = np.array([1.0, np.nan, 0.0], dtype=np.float32)
    with pytest.raises(optim.NonFiniteGradientError, match=r"parameter 0 of group 0 .* NaN or Inf"):
        optim.SGD([p], lr=0.1).step()
    with pytest.warns(RuntimeWarning, match="This step was skipped"):
        optim.Adam([p], on_nonfinite="skip").step()
    np.testing.assert_array_equal(p.data, 1.0)


def test_updates_are_in_place_with_preallocated_state():
    model = nn.Linear(3, 2, rng=0)
    opt = optim.Adam(model.parameters())
    weight = model.weight.data
    model(sn.tensor(np.ones((4, 3)))).sum().backward()
    opt.step()
    state = opt.state[id(model.weight)]
    buffers = (state["exp_avg"], state["exp_avg_sq"])
    opt.step()
    assert model.weight.data is weight  # the parameter array itself was updated
    assert state["exp_avg"] is buffers[0] and state["exp_avg_sq"] is buffers[1]
    assert state["exp_avg"].dtype == np.float32 and weight.dtype == np.float32


# ----------------------------------------------------------------------- the notes' claim
def test_momentum_and_adam_beat_plain_sgd_on_an_ill_conditioned_problem():
    """f(w) = 0.5 * sum(c_i w_i^2) with curvatures from 1 to 100 (condition number 100).
    Plain SGD must use a step small enough for the steepest direction and then crawls along
    the flat one; momentum accumulates speed there, Adam rescales each coordinate."""
    curvature = np.geomspace(1.0, 100.0, 10)

    def final_loss(make_optimizer, steps=100):
        w = nn.Parameter(np.ones(10), dtype="float64")
        opt = make_optimizer([w])
        for _ in range(steps):
            opt.zero_grad()
            (sn.tensor(curvature, dtype="float64") * w * w * 0.5).sum().backward()
            opt.step()
        return float((0.5 * curvature * w.data**2).sum())

    lr = 1.0 / curvature.max()
    sgd = final_loss(lambda p: optim.SGD(p, lr=lr))
    momentum = final_loss(lambda p: optim.SGD(p, lr=lr, momentum=0.9))
    adam = final_loss(lambda p: optim.Adam(p, lr=0.05))
    # measured: sgd 0.101, momentum 0.0018 (56x lower), adam 0.0022 (46x lower)
    assert momentum < 0.1 * sgd, (sgd, momentum)
    assert adam < 0.1 * sgd, (sgd, adam)


# ----------------------------------------------------------------------- a state from a file
def _adam_after_one_step():
    model = nn.Linear(3, 2, rng=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(sn.tensor(np.ones((4, 3)))).sum().backward()
    opt.step()
    return model, opt


def test_load_state_dict_refuses_arrays_of_the_wrong_shape_and_changes_nothing():
    model, opt = _adam_after_one_step()
    saved = opt.state_dict()
    saved["state"][0]["exp_avg"] = np.zeros((7, 7), dtype=np.float32)
    before = {k: v.copy() for k, v in opt.state[id(model.weight)].items() if hasattr(v, "copy")}
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(7, 7\).*\(2, 3\)"):
        opt.load_state_dict(saved)
    after = opt.state[id(model.weight)]
    assert all(np.array_equal(after[k], v) for k, v in before.items())  # untouched


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("lr", -1.0, "Invalid learning rate"), ("betas", [0.9, 1.5], "Invalid beta2"),
     ("lr", float("nan"), "Invalid learning rate")],
)  # fmt: skip
def test_load_state_dict_checks_hyper_parameters_as_the_constructor(key, value, message):
    _, opt = _adam_after_one_step()
    saved = opt.state_dict()
    saved["param_groups"][0][key] = value
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.01


def test_load_state_dict_refuses_a_parameter_index_it_does_not_have():
    _, opt = _adam_after_one_step()
    saved = opt.state_dict()
    saved["state"][5] = saved["state"][0]
    with pytest.raises(ValueError, match="names parameter 5, but this optimizer has parameters 0 "):
        opt.load_state_dict(saved)
