"""LambdaLR and MultiplicativeLR: PyTorch's values step for step, JSON state, fit resume
(issue 14.18)."""

import json

import numpy as np
import pytest
import torch
from test_lr_scheduler import EPOCHS, T, assert_same, ours, run, theirs

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.optim import lr_scheduler as S
from sinapsi.train import ModelCheckpoint


def warmup(epoch):
    return min(1.0, (epoch + 1) / 5)


def decay(epoch):
    return 0.9**epoch


class Scaled:
    """A callable object with state: PyTorch saves its ``__dict__``, and so do we."""

    def __init__(self, scale, every=3):
        self.scale, self.every = scale, every

    def __call__(self, epoch):
        return self.scale ** (epoch // self.every)


CASES = {
    "lambda-one": (lambda o: S.LambdaLR(o, warmup), lambda o: T.LambdaLR(o, warmup)),
    "lambda-inline": (
        lambda o: S.LambdaLR(o, lambda e: 1 / (1 + 0.1 * e)),
        lambda o: T.LambdaLR(o, lambda e: 1 / (1 + 0.1 * e)),
    ),
    "lambda-object": (lambda o: S.LambdaLR(o, Scaled(0.7)), lambda o: T.LambdaLR(o, Scaled(0.7))),
    "multiplicative": (
        lambda o: S.MultiplicativeLR(o, lambda e: 0.95),
        lambda o: T.MultiplicativeLR(o, lambda e: 0.95),
    ),
    "multiplicative-epoch": (
        lambda o: S.MultiplicativeLR(o, lambda e: 1.0 if e % 4 else 0.5),
        lambda o: T.MultiplicativeLR(o, lambda e: 1.0 if e % 4 else 0.5),
    ),
    "warmup-lambda-then-multiplicative": (
        lambda o: S.SequentialLR(
            o, [S.LambdaLR(o, warmup), S.MultiplicativeLR(o, lambda e: 0.9)], milestones=[5]
        ),
        lambda o: T.SequentialLR(
            o, [T.LambdaLR(o, warmup), T.MultiplicativeLR(o, lambda e: 0.9)], milestones=[5]
        ),
    ),
}


@pytest.mark.parametrize("lrs", [[0.1], [0.1, 0.003]], ids=["1group", "2groups"])
@pytest.mark.parametrize("case", list(CASES))
def test_sequence_equals_torch(case, lrs):
    make_ours, make_theirs = CASES[case]
    o, t = ours(lrs), theirs(lrs)
    expected = run(t, make_theirs(t))
    assert_same(run(o, make_ours(o)), expected)


@pytest.mark.parametrize("cls", ["LambdaLR", "MultiplicativeLR"])
def test_one_function_per_group_equals_torch(cls):
    fns = [warmup, decay] if cls == "LambdaLR" else [lambda e: 0.9, lambda e: 0.99]
    o, t = ours([0.1, 0.02]), theirs([0.1, 0.02])
    expected = run(t, getattr(T, cls)(t, fns))
    assert_same(run(o, getattr(S, cls)(o, list(fns))), expected)
    o2 = ours([0.1, 0.02])
    assert_same(run(o2, getattr(S, cls)(o2, tuple(fns))), expected)


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_is_json_and_resumes_mid_way(case):
    make = CASES[case][0]
    o = ours([0.1, 0.02])
    sched = make(o)
    run(o, sched, n=17)
    saved_opt, saved = o.state_dict(), json.loads(json.dumps(sched.state_dict()))
    expected = run(o, sched, n=EPOCHS - 17)
    o2 = ours([0.1, 0.02])
    sched2 = make(o2)  # the functions come from the code that rebuilds the scheduler
    o2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert_same(run(o2, sched2, n=EPOCHS - 17), expected)


def test_functions_are_not_saved_but_callable_objects_state_is_as_in_torch():
    o, t = ours([0.1, 0.02]), theirs([0.1, 0.02])
    ours_state = S.LambdaLR(o, [warmup, Scaled(0.5, every=2)]).state_dict()
    torch_state = T.LambdaLR(t, [warmup, Scaled(0.5, every=2)]).state_dict()
    assert ours_state["lr_lambdas"] == torch_state["lr_lambdas"] == [
        None, {"scale": 0.5, "every": 2},
    ]  # fmt: skip
    obj = Scaled(0.9)
    sched = S.LambdaLR(ours([0.1, 0.02]), [warmup, obj])
    sched.load_state_dict(json.loads(json.dumps(ours_state)))
    assert (obj.scale, obj.every) == (0.5, 2)  # the saved attributes are back in the object
    assert sched.lr_lambdas[0] is warmup


def test_load_state_dict_leaves_the_given_state_unchanged():
    o = ours([0.1])
    state = S.LambdaLR(o, Scaled(0.5)).state_dict()
    before = json.dumps(state)
    S.LambdaLR(ours([0.1]), Scaled(0.9)).load_state_dict(state)
    assert json.dumps(state) == before


def test_a_checkpoint_with_lambda_lr_resumes_like_an_uninterrupted_run(tmp_path):
    def setup():
        rng = np.random.default_rng(3)
        x, y = rng.standard_normal((64, 4)), rng.integers(0, 2, 64)
        model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        lr_scheduler = S.LambdaLR(opt, lambda epoch: 0.5**epoch)  # a plain function
        kwargs = dict(optimizer=opt, batch_size=16, seed=7, verbose=0, lr_scheduler=lr_scheduler)
        return model, x, y, kwargs

    straight, x, y, kwargs = setup()
    full = sn.fit(straight, x, y, epochs=5, **kwargs)
    lrs = [g["lr"] for g in kwargs["optimizer"].param_groups]

    first, x, y, kwargs = setup()
    sn.fit(
        first,
        x,
        y,
        epochs=2,
        callbacks=[ModelCheckpoint(tmp_path / "c{epoch}.npz", save_best_only=False)],
        **kwargs,
    )
    resumed_model, x, y, kwargs = setup()  # the user's code rebuilds LambdaLR and its function
    resumed = sn.fit(resumed_model, x, y, epochs=5, resume_from=tmp_path / "c2.npz", **kwargs)
    assert resumed.history["loss"] == full.history["loss"]
    assert [g["lr"] for g in kwargs["optimizer"].param_groups] == lrs == [0.05 * 0.5**5]
    for a, b in zip(straight.parameters(), resumed_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_exported_from_optim():
    assert optim.LambdaLR is S.LambdaLR and optim.MultiplicativeLR is S.MultiplicativeLR
    assert {"LambdaLR", "MultiplicativeLR"} <= set(optim.__all__) & set(S.__all__)


class Unsaveable:
    def __init__(self):
        self.table = np.ones(3)

    def __call__(self, epoch):
        return 1.0


ERRORS = [
    (lambda o: S.LambdaLR(o, 0.5), TypeError,
     r"LambdaLR: lr_lambda must be a function of the epoch .*or a list of one per parameter "
     r"group; got float: 0\.5"),
    (lambda o: S.LambdaLR(o, [warmup, "x"]), TypeError, r"LambdaLR: lr_lambda\[1\] .*got str"),
    (lambda o: S.MultiplicativeLR(o, [warmup]), ValueError,
     r"MultiplicativeLR: got 1 lr_lambda function\(s\) but the optimizer has 2 parameter "
     r"groups.*one function, or one per group"),
    (lambda o: S.LambdaLR(o, Unsaveable()).state_dict(), TypeError,
     r"LambdaLR\.state_dict: lr_lambda\[0\] \(Unsaveable\) holds 'table' = ndarray, which a "
     r"JSON checkpoint cannot hold"),
    (lambda o: S.LambdaLR(o, warmup).load_state_dict(
        S.LambdaLR(ours([0.1, 0.1, 0.1]), warmup).state_dict()), ValueError,
     r"state is for 3 parameter group\(s\) but the optimizer has 2"),
    (lambda o: S.LambdaLR(o, warmup).load_state_dict(S.StepLR(ours([0.1, 0.1]), 2).state_dict()),
     ValueError, r"LambdaLR\.load_state_dict: .*missing keys: \['lr_lambdas'\]"),
]  # fmt: skip


@pytest.mark.parametrize("make, error, message", ERRORS)
def test_invalid_arguments_are_refused_with_the_value(make, error, message):
    with pytest.raises(error, match=message):
        make(ours([0.1, 0.02]))


def test_torch_semantics_of_the_first_value():
    """LambdaLR's step 0 is base_lr * f(0); MultiplicativeLR leaves step 0 alone."""
    o = ours([0.1])
    assert S.LambdaLR(o, lambda e: 0.25).get_last_lr() == [0.1 * 0.25]
    o2 = ours([0.1])
    assert S.MultiplicativeLR(o2, lambda e: 0.25).get_last_lr() == [0.1]
    t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    assert T.LambdaLR(t, lambda e: 0.25).get_last_lr() == [0.1 * 0.25]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: S.LambdaLR(o, lambda e: float("nan")),
         r"LambdaLR: lr_lambda\[0\] returned nan at epoch 0; it must return a finite number "
         r">= 0 \(the factor"),
        (lambda o: S.LambdaLR(o, [warmup, lambda e: -1.0]), r"lr_lambda\[1\] returned -1\.0"),
        (lambda o: S.MultiplicativeLR(o, lambda e: None).step(),
         r"MultiplicativeLR: lr_lambda\[0\] returned None at epoch 1"),
        (lambda o: S.LambdaLR(o, lambda e: "0.5"), r"returned '0\.5' at epoch 0"),
    ],
)  # fmt: skip
def test_a_factor_that_is_not_a_finite_non_negative_number_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make(ours([0.1, 0.02]))
