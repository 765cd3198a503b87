"""Learning-rate schedulers: the sequence of learning rates equals PyTorch's, step for step."""

import json
import math

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi.optim import lr_scheduler as S
from sinapsi.optim.optimizer import Optimizer

T = torch.optim.lr_scheduler
EPOCHS = 50


class Plain(Optimizer):
    """The smallest concrete optimizer: ``p -= lr * grad``."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def update(self, param, grad, state, group):
        param.data -= group["lr"] * grad


def ours(lrs):
    return Plain([{"params": [sn.Tensor(np.zeros(1), requires_grad=True)], "lr": lr} for lr in lrs])


def theirs(lrs):
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def run(opt, sched, n=EPOCHS, metrics=None):
    """get_last_lr() after construction and after each of n steps; checks the groups agree."""
    seq = [sched.get_last_lr()]
    for i in range(n):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        seq.append(sched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == seq[-1]
    return np.array(seq, dtype=np.float64)


def assert_same(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


# (ours, torch's): each builds a scheduler on an optimizer.
CASES = {
    "step": (lambda o: S.StepLR(o, step_size=7), lambda o: T.StepLR(o, step_size=7)),
    "step-gamma": (
        lambda o: S.StepLR(o, step_size=1, gamma=0.9),
        lambda o: T.StepLR(o, step_size=1, gamma=0.9),
    ),
    "multistep": (
        lambda o: S.MultiStepLR(o, milestones=[3, 10, 11, 40]),
        lambda o: T.MultiStepLR(o, milestones=[3, 10, 11, 40]),
    ),
    "multistep-0": (
        lambda o: S.MultiStepLR(o, milestones=[0, 25], gamma=0.5),
        lambda o: T.MultiStepLR(o, milestones=[0, 25], gamma=0.5),
    ),
    "exponential": (lambda o: S.ExponentialLR(o, 0.93), lambda o: T.ExponentialLR(o, 0.93)),
    "cosine": (
        lambda o: S.CosineAnnealingLR(o, T_max=50),
        lambda o: T.CosineAnnealingLR(o, T_max=50),
    ),
    "cosine-restarting": (  # past T_max the recursion climbs back up, through two minima
        lambda o: S.CosineAnnealingLR(o, T_max=11, eta_min=1e-3),
        lambda o: T.CosineAnnealingLR(o, T_max=11, eta_min=1e-3),
    ),
    "cosine-zero-min": (
        lambda o: S.CosineAnnealingLR(o, T_max=7),
        lambda o: T.CosineAnnealingLR(o, T_max=7),
    ),
    "linear": (
        lambda o: S.LinearLR(o, start_factor=0.25, end_factor=0.5, total_iters=20),
        lambda o: T.LinearLR(o, start_factor=0.25, end_factor=0.5, total_iters=20),
    ),
    "linear-default": (lambda o: S.LinearLR(o), lambda o: T.LinearLR(o)),
    "warmup": (
        lambda o: S.LinearWarmup(o, warmup_steps=10, start_factor=0.01),
        lambda o: T.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=10),
    ),
    "warmup-default": (
        lambda o: S.LinearWarmup(o, 4),
        lambda o: T.LinearLR(o, end_factor=1.0, total_iters=4),
    ),
    "warmup-then-cosine": (
        lambda o: S.SequentialLR(
            o, [S.LinearWarmup(o, 5, 0.1), S.CosineAnnealingLR(o, T_max=45)], milestones=[5]
        ),
        lambda o: T.SequentialLR(
            o, [T.LinearLR(o, 0.1, 1.0, 5), T.CosineAnnealingLR(o, T_max=45)], milestones=[5]
        ),
    ),
    "sequential-3": (
        lambda o: S.SequentialLR(
            o,
            [S.ExponentialLR(o, 0.9), S.StepLR(o, 4, 0.5), S.MultiStepLR(o, [3, 6])],
            milestones=[10, 30],
        ),
        lambda o: T.SequentialLR(
            o,
            [T.ExponentialLR(o, 0.9), T.StepLR(o, 4, 0.5), T.MultiStepLR(o, [3, 6])],
            milestones=[10, 30],
        ),
    ),
}


@pytest.mark.parametrize("lrs", [[0.1], [0.1, 0.003]], ids=["1group", "2groups"])
@pytest.mark.parametrize("case", list(CASES))
def test_sequence_equals_torch(case, lrs):
    make_ours, make_theirs = CASES[case]
    o, t = ours(lrs), theirs(lrs)
    expected = run(t, make_theirs(t))
    got = run(o, make_ours(o))
    assert_same(got, expected)
    assert [g["initial_lr"] for g in o.param_groups] == lrs


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_mid_way(case):
    make = CASES[case][0]
    o = ours([0.1, 0.02])
    sched = make(o)
    run(o, sched, n=17)
    saved_opt = o.state_dict()
    saved = json.loads(json.dumps(sched.state_dict()))  # plain JSON-able values
    expected = run(o, sched, n=EPOCHS - 17)

    o2 = ours([0.1, 0.02])
    sched2 = make(o2)  # build the scheduler first, then load the optimizer, then the scheduler
    o2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert sched2.last_epoch == 17
    assert_same(run(o2, sched2, n=EPOCHS - 17), expected)


RESUMABLE = {
    "StepLR": dict(step_size=3, gamma=0.5),
    "ExponentialLR": dict(gamma=0.8),
    "CosineAnnealingLR": dict(T_max=6, eta_min=0.001),
    "LinearLR": dict(start_factor=0.2, total_iters=12),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_resume_with_last_epoch_equals_torch(name):
    o, t = ours([0.1, 0.02]), theirs([0.1, 0.02])
    for g in [*o.param_groups, *t.param_groups]:
        g["initial_lr"] = g["lr"] * 2
    kwargs = dict(RESUMABLE[name], last_epoch=8)
    got = run(o, getattr(S, name)(o, **kwargs), n=10)
    expected = run(t, getattr(T, name)(t, **kwargs), n=10)
    assert_same(got, expected)


# A validation metric with improvements, plateaus, tiny (sub-threshold) gains, a NaN and a rise.
METRIC = (
    [1.0, 0.8, 0.6, 0.6, 0.6, 0.6, 0.59999, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4]
    + [0.45] * 8
    + [0.39, 0.38, float("nan"), 0.38, 0.38, 0.38, 0.2]
    + [0.3] * 20
)
PLATEAU_OPTIONS = [
    {},
    dict(factor=0.5, patience=2, cooldown=3, min_lr=0.004),
    dict(factor=0.5, patience=0, cooldown=1, min_lr=[0.01, 1e-4], threshold=0.02),
    dict(mode="max", factor=0.3, patience=1, threshold_mode="abs", threshold=0.05, min_lr=1e-3),
    dict(factor=0.9, patience=1, eps=2e-3),  # eps blocks reductions once lr * 0.1 < 2e-3
]


@pytest.mark.parametrize("options", PLATEAU_OPTIONS, ids=lambda d: ",".join(d) or "defaults")
def test_plateau_equals_torch(options):
    metric = METRIC if options.get("mode") != "max" else [-m for m in METRIC]
    o, t = ours([0.1, 0.02]), theirs([0.1, 0.02])
    ts = T.ReduceLROnPlateau(t, **options)
    os_ = S.ReduceLROnPlateau(o, **options)
    expected = run(t, ts, n=len(metric), metrics=metric)
    got = run(o, os_, n=len(metric), metrics=[sn.tensor(m, dtype="float64") for m in metric])
    assert_same(got, expected)
    assert len(np.unique(got[:, 0])) >= 2  # the metric really drives reductions
    for attr in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(os_, attr) == getattr(ts, attr) or math.isnan(getattr(os_, attr))


def test_plateau_state_dict_round_trip():
    options = dict(factor=0.5, patience=2, cooldown=3, min_lr=0.004)
    o = ours([0.1, 0.02])
    sched = S.ReduceLROnPlateau(o, **options)
    json.dumps(sched.state_dict())  # best = inf at first is still writable
    run(o, sched, n=20, metrics=METRIC)
    saved_opt, saved = o.state_dict(), json.loads(json.dumps(sched.state_dict()))
    expected = run(o, sched, n=30, metrics=METRIC[20:])
    o2 = ours([0.1, 0.02])
    sched2 = S.ReduceLROnPlateau(o2)  # other options: the state brings them back
    o2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert_same(run(o2, sched2, n=30, metrics=METRIC[20:]), expected)


def test_get_last_lr_is_a_copy_and_repr():
    o = ours([0.1])
    sched = S.StepLR(o, 2)
    sched.get_last_lr().append(5.0)
    assert sched.get_last_lr() == [0.1]
    assert repr(sched) == "StepLR(last_epoch=0, lr=[0.1])"


# ----------------------------------------------------------------------------------- errors
ERRORS = [
    (lambda o: S.StepLR(o, step_size=0), r"StepLR: Invalid step_size value: 0\. .*integer >= 1"),
    (lambda o: S.StepLR(o, step_size=2.0), r"Invalid step_size value: 2\.0"),
    (lambda o: S.StepLR(o, 3, gamma=0), r"StepLR: Invalid gamma value: 0\. It must be .*> 0"),
    (lambda o: S.StepLR(o, 3, last_epoch=-2), r"Invalid last_epoch value: -2"),
    (lambda o: S.ExponentialLR(o, -0.5), r"ExponentialLR: Invalid gamma value: -0\.5"),
    (lambda o: S.ExponentialLR(o, math.nan), r"Invalid gamma value: nan"),
    (lambda o: S.MultiStepLR(o, [5, 3]), r"Invalid milestones value: \[5, 3\]\. .*strictly "),
    (lambda o: S.MultiStepLR(o, [3, 3]), r"strictly increasing.*\[3\]"),
    (lambda o: S.MultiStepLR(o, [2, -1]), r"Every milestone must be an integer >= 0; got -1"),
    (lambda o: S.MultiStepLR(o, [2], gamma=0), r"MultiStepLR: Invalid gamma value: 0"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), r"CosineAnnealingLR: Invalid T_max value: 0"),
    (lambda o: S.CosineAnnealingLR(o, 5, eta_min=-1), r"Invalid eta_min value: -1"),
    (lambda o: S.LinearLR(o, start_factor=0), r"LinearLR: Invalid start_factor value: 0\. .*\(0"),
    (lambda o: S.LinearLR(o, end_factor=1.5), r"Invalid end_factor value: 1\.5.*\[0\.0, 1\.0\]"),
    (lambda o: S.LinearLR(o, total_iters=0), r"Invalid total_iters value: 0"),
    (lambda o: S.LinearWarmup(o, 0), r"LinearWarmup: Invalid warmup_steps value: 0"),
    (lambda o: S.LinearWarmup(o, 5, start_factor=2), r"LinearWarmup: Invalid start_factor"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), r"Invalid factor value: 1\.0.*lr \* factor"),
    (lambda o: S.ReduceLROnPlateau(o, factor=0), r"Invalid factor value: 0"),
    (
        lambda o: S.ReduceLROnPlateau(o, mode="minimum"),
        r"The 'mode' parameter of ReduceLROnPlateau must be a str among \{'max', 'min'\}\. "
        r"Got 'minimum' instead\.",
    ),
    (
        lambda o: S.ReduceLROnPlateau(o, threshold_mode="relative"),
        r"'threshold_mode' .* among \{'abs', 'rel'\}\. Got 'relative' instead",
    ),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), r"Invalid patience value: -1"),
    (lambda o: S.ReduceLROnPlateau(o, cooldown=1.5), r"Invalid cooldown value: 1\.5"),
    (lambda o: S.ReduceLROnPlateau(o, threshold=-1e-4), r"Invalid threshold value"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.0, 0.0]), r"min_lr has 2 values .* 1 param"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=-1), r"Invalid min_lr value: -1"),
    (lambda o: S.ReduceLROnPlateau(o).step("low"), r"needs the monitored value.*'low'"),
    (lambda o: S.SequentialLR(o, [], []), r"SequentialLR needs at least one scheduler"),
    (
        lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], milestones=[]),
        r"got 2 schedulers and 0 milestones",
    ),
    (
        lambda o: S.SequentialLR(o, [S.ReduceLROnPlateau(o)], []),
        r"schedulers\[0\] is a ReduceLROnPlateau",
    ),
    (
        lambda o: S.SequentialLR(o, [S.StepLR(ours([0.1]), 2)], []),
        r"schedulers\[0\] \(StepLR\) was built on another optimizer",
    ),
    (lambda o: S.StepLR("sgd", 2), r"StepLR expects a sinapsi Optimizer .*got str"),
    (lambda o: S.StepLR(o, 2, last_epoch=3), r"last_epoch=3 needs 'initial_lr' .*\[0\]"),
    (
        lambda o: S.StepLR(o, 2).load_state_dict(S.ExponentialLR(ours([1.0]), 0.5).state_dict()),
        r"StepLR.load_state_dict: .*missing keys: \['step_size'\]",
    ),
    (
        lambda o: S.StepLR(o, 2).load_state_dict(S.StepLR(ours([1.0, 2.0]), 2).state_dict()),
        r"state is for 2 parameter group\(s\) but the optimizer has 1",
    ),
]


@pytest.mark.parametrize("make, message", ERRORS)
def test_invalid_arguments_are_refused_with_the_value(make, message):
    with pytest.raises((ValueError, TypeError, KeyError), match=message):
        make(ours([0.1]))
