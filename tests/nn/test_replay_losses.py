"""Every loss replays (what sinapsi.capture relies on) when its target is an array in the
dtype the loss uses: float targets in the input's dtype, integer labels. The targets are
passed raw, held by reference: check_replay rewrites them in place and the replay must follow.
Functional and Module forms, every reduction, float32 and float64."""

import re

import numpy as np
import pytest

from sinapsi import nn
from sinapsi.testing import check_replay

DTYPES = (np.float32, np.float64)
REDUCTIONS = ("mean", "sum", "none")
# ops of other modules (elementwise, reduce) the composed losses use: where one has no replay
# yet, the loss cannot replay either, and the test says so instead of failing here
_ELSEWHERE = {"add", "sub", "mul", "div", "neg", "abs", "where", "sum", "mean", "exp", "log"}


def _check(fn, *inputs, **kwargs):
    try:
        check_replay(fn, *inputs, **kwargs)
    except AssertionError as e:
        missing = re.search(r"op '(\w+)' has no replay", str(e))
        if missing and missing.group(1) in _ELSEWHERE:
            pytest.skip(f"op '{missing.group(1)}' (ops.elementwise/reduce) has no replay yet")
        raise


def _draw(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _unit(shape, dtype, seed=0):
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape).astype(dtype)


def _huber_small_delta(a, b, reduction):
    return nn.huber_loss(a, b, 0.3, reduction)


def _labels(n, c, seed=0, extra=()):
    return np.concatenate([np.random.default_rng(seed).integers(0, c, n), extra]).astype(np.int64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (1, 1), (), (0, 2)])
@pytest.mark.parametrize(
    "loss",
    [nn.mse_loss, nn.l1_loss, nn.huber_loss, _huber_small_delta],
)  # fmt: skip
def test_regression_losses_replay(loss, shape, reduction, dtype):
    _check(lambda a, b: loss(a, b, reduction=reduction), _draw(shape, dtype),
           _draw(shape, dtype, 1), raw=[1])  # fmt: skip


@pytest.mark.parametrize("module", [nn.MSELoss(), nn.L1Loss(), nn.HuberLoss(0.5, "sum")])
def test_regression_loss_modules_replay(module):
    _check(lambda a, b: module(a, b), _draw((4, 2), "f4"), _draw((4, 2), "f4", 1), raw=[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (1,), (), (0, 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_replays(weighted, shape, reduction, dtype):
    weight = _unit(shape[-1:], dtype, 3) if weighted else None
    new = [_unit(shape, dtype, 4), np.round(_unit(shape, dtype, 5))]  # 0/1 labels, then soft
    _check(lambda p, y: nn.binary_cross_entropy(p, y, weight, reduction), _unit(shape, dtype),
           _unit(shape, dtype, 1), raw=[1], new_inputs=new, rounds=1)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (1,), (), (0, 2)])
@pytest.mark.parametrize("weighted, pos_weight", [(False, False), (True, False), (False, True)])
def test_bce_with_logits_replays(weighted, pos_weight, shape, reduction, dtype):
    weight = _unit(shape[-1:], dtype, 3) if weighted else None
    pw = _unit(shape[-1:], dtype, 4) * 4 if pos_weight else None
    new = [_draw(shape, dtype, 5), np.round(_unit(shape, dtype, 6))]
    _check(lambda z, y: nn.binary_cross_entropy_with_logits(z, y, weight, pw, reduction),
           _draw(shape, dtype), _unit(shape, dtype, 1), raw=[1], new_inputs=new,
           rounds=1)  # fmt: skip


def test_bce_modules_replay():
    z, y = _draw((6, 2), "f8"), np.round(_unit((6, 2), "f8", 1))
    new = [_draw((6, 2), "f8", 2), np.round(_unit((6, 2), "f8", 3))]
    pw = np.array([2.0, 0.5])
    for module in (nn.BCEWithLogitsLoss(pos_weight=pw), nn.BCEWithLogitsLoss(reduction="sum")):
        _check(module, z, y, raw=[1], new_inputs=new, rounds=1)
    _check(lambda a, b: nn.BCELoss()(a, b), _unit((6, 2), "f8"), y, raw=[1],
           new_inputs=[_unit((6, 2), "f8", 4), y], rounds=1)  # fmt: skip


def test_a_target_in_another_dtype_replays_through_its_cast():
    # float64 targets for a float32 input: the cast copy is an op a replay casts again
    _check(lambda a, b: nn.mse_loss(a, b), _draw((4, 3), "f4"), _draw((4, 3), "f8", 1), raw=[1])
    _check(lambda a, b: nn.binary_cross_entropy_with_logits(a, b), _draw((4,), "f4"),
           np.array([0, 1, 1, 0]), raw=[1],
           new_inputs=[_draw((4,), "f4", 2), np.array([1, 1, 0, 0])], rounds=1)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n", [6, 1, 0])
def test_cross_entropy_with_labels_replays(n, reduction, dtype):
    # the fused fast path: labels permuted in place by check_replay
    _check(lambda z, y: nn.cross_entropy(z, y, reduction=reduction), _draw((n, 4), dtype),
           _labels(n, 4), raw=[1])  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "options",
    [
        {"weight": "w"},
        {"label_smoothing": 0.2},
        {"weight": "w", "label_smoothing": 0.1},
        {"ignore_index": 1},  # a class: ignored where it appears
        {"ignore_index": -100, "extra": (-100, -100)},
        {"weight": "w", "ignore_index": -1, "extra": (-1,), "label_smoothing": 0.3},
    ],
)
def test_cross_entropy_options_replay(options, reduction, dtype):
    options = dict(options)
    extra = options.pop("extra", ())
    if options.get("weight") == "w":
        options["weight"] = _unit(4, dtype, 9) * 2
    labels = _labels(5, 4, extra=extra)
    if options.get("ignore_index") == 1:
        labels[[0, 3]] = 1
    _check(lambda z, y: nn.cross_entropy(z, y, reduction=reduction, **options),
           _draw((labels.size, 4), dtype), labels, raw=[1])  # fmt: skip
    _check(lambda z, y: nn.CrossEntropyLoss(reduction=reduction, **options)(z, y),
           _draw((labels.size, 4), dtype), labels, raw=[1])  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_spatial_axes_and_one_sample_replays(dtype):
    _check(lambda z, y: nn.cross_entropy(z, y), _draw((2, 3, 4), dtype),
           _labels(8, 3).reshape(2, 4), raw=[1])  # fmt: skip
    _check(lambda z, y: nn.cross_entropy(z, y, label_smoothing=0.1), _draw((3,), dtype),
           np.array(2), raw=[1], new_inputs=[_draw((3,), dtype, 1), np.array(0)])  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing, weighted", [(0.0, False), (0.2, True)])
def test_cross_entropy_with_probabilities_replays(smoothing, weighted, reduction, dtype):
    weight = _unit(3, dtype, 2) if weighted else None
    probs = _unit((4, 3), dtype, 1)
    new = [_draw((4, 3), dtype, 3), _unit((4, 3), dtype, 4)]
    _check(lambda z, p: nn.cross_entropy(z, p, weight, smoothing, reduction),
           _draw((4, 3), dtype), probs, raw=[1], new_inputs=new, rounds=1)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted, ignore", [(False, None), (True, None), (True, 2), (False, 0)])
def test_nll_loss_replays(weighted, ignore, reduction, dtype):
    weight = _unit(3, dtype, 2) if weighted else None
    labels = _labels(5, 3)
    options = {} if ignore is None else {"ignore_index": ignore}
    if ignore is not None:
        labels[1] = ignore
    _check(lambda z, y: nn.nll_loss(z, y, weight, reduction, **options), _draw((5, 3), dtype),
           labels, raw=[1])  # fmt: skip
    _check(lambda z, y: nn.NLLLoss(weight, reduction, **options)(z, y), _draw((5, 3), dtype),
           labels, raw=[1])  # fmt: skip


def test_a_replay_refuses_labels_that_change_the_path():
    # recorded with no label 1 ignored, replayed with one: the eager loss takes another path
    from sinapsi import autograd

    labels = np.array([0, 2, 2, 0])
    for options in ({"ignore_index": 1}, {"ignore_index": 1, "label_smoothing": 0.1}):
        mode = autograd._mode
        previous, mode.tape = mode.tape, []
        try:
            nn.cross_entropy(_draw((4, 3), "f8"), labels, **options)
            tape = mode.tape
        finally:
            mode.tape = previous
        labels[2] = 1
        with pytest.raises(RuntimeError, match="ignore_index=1"):
            for _, _, replay in tape:
                replay()
        labels[2] = 2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n", [5, 1, 0])
def test_softmax_mse_loss_replays(n, reduction, dtype):
    _check(lambda z, y: nn.softmax_mse_loss(z, y, reduction), _draw((n, 3), dtype),
           _labels(n, 3), raw=[1])  # fmt: skip
    _check(lambda z, y: nn.SoftmaxMSELoss(reduction)(z, y), _draw((n, 3), dtype),
           _unit((n, 3), dtype, 1), raw=[1], new_inputs=[_draw((n, 3), dtype, 2),
           _unit((n, 3), dtype, 3)], rounds=1)  # fmt: skip
