"""The replays of the fused nn ops (softmax family, the cross-entropies, batch_norm on both of
its paths, dropout): check_replay over awkward shapes, float32 and float64, with labels and
targets held by reference, generators and running statistics."""

import numpy as np
import pytest

from sinapsi import _numba, ops
from sinapsi.tensor import Tensor
from sinapsi.testing import check_replay

DTYPES = (np.float32, np.float64)


def _draw(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _unit(shape, dtype, seed=0):
    return np.random.default_rng(seed).uniform(0.02, 0.98, shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [ops.softmax, ops.log_softmax])
@pytest.mark.parametrize(
    "shape, axis", [((4, 5), -1), ((4, 5), 0), ((1, 3), 1), ((2, 3, 4), 1), ((3,), 0),
                    ((), 0), ((0, 4), -1), ((3, 0), -1)],
)  # fmt: skip
def test_softmax_family_replays(op, shape, axis, dtype):
    check_replay(lambda t: op(t, axis), _draw(shape, dtype))


def test_softmax_replays_a_non_contiguous_input():
    check_replay(lambda t: ops.softmax(ops.transpose(t), 1), _draw((5, 3), np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("n", [6, 1, 0])
def test_softmax_cross_entropy_replays_with_current_labels(n, reduction, dtype):
    labels = np.random.default_rng(1).integers(0, 4, n)
    check_replay(
        lambda z, y: ops.softmax_cross_entropy(z, y, reduction), _draw((n, 4), dtype), labels,
        raw=[1], new_inputs=[_draw((n, 4), dtype, 2), (labels + 1) % 4],
    )  # fmt: skip


def test_softmax_cross_entropy_replay_refuses_a_label_it_was_told_is_absent():
    z, y = ops.softmax_cross_entropy, np.array([0, 2, 2])
    from sinapsi import autograd

    mode = autograd._mode
    previous, mode.tape = mode.tape, []
    try:
        z(_draw((3, 3), np.float64), y, "mean", ignore_index=1)
        tape = mode.tape
    finally:
        mode.tape = previous
    tape[-1][2]()  # no label 1: replays
    y[1] = 1
    with pytest.raises(RuntimeError, match="ignore_index=1"):
        tape[-1][2]()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (1,), (), (0, 2)])
def test_binary_cross_entropy_replays(shape, dtype):
    p, y = _unit(shape, dtype), _unit(shape, dtype, 1)
    new = [_unit(shape, dtype, 2), _unit(shape, dtype, 3)]
    # one round: check_replay's own draws are no probabilities
    check_replay(ops.binary_cross_entropy, p, y, new_inputs=new, rounds=1)  # target grad too
    check_replay(ops.binary_cross_entropy, p, y, raw=[1], new_inputs=new, rounds=1)
    # p exactly 0 and 1: the clamped logs
    edge = np.zeros(shape, dtype)
    check_replay(ops.binary_cross_entropy, p, y, raw=[1], new_inputs=[edge, edge + 1], rounds=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (1,), (), (0, 3)])
@pytest.mark.parametrize("pos_weight", [None, "scalar", "array"])
def test_bce_with_logits_replays(shape, pos_weight, dtype):
    z, y = _draw(shape, dtype) * 3, _unit(shape, dtype, 1)
    pw = {None: None, "scalar": 2.5, "array": _unit(shape[-1:], dtype, 4) * 3}[pos_weight]
    check_replay(lambda a, b: ops.bce_with_logits(a, b, pw), z, y)
    check_replay(lambda a, b: ops.bce_with_logits(a, b, pw), z, y, raw=[1])


def test_bce_with_logits_replays_a_pos_weight_changed_in_place():
    pw = np.array([1.0, 3.0])

    def loss(z, y):
        return ops.bce_with_logits(z, y, pw)

    check_replay(loss, _draw((4, 2), "f8"), _unit((4, 2), "f8"), raw=[1])
    from sinapsi import autograd

    mode = autograd._mode
    previous, mode.tape = mode.tape, []
    try:
        z, y = Tensor(_draw((4, 2), "f8"), dtype="f8"), _unit((4, 2), "f8", 1)
        out = loss(z, y)
        replay = mode.tape[-1][2]
    finally:
        mode.tape = previous
    pw[:] = [2.0, 0.5]
    replay()
    np.testing.assert_array_equal(out.data, loss(z, y).data)


def _bn(training, affine, running, momentum=0.1):
    def op(x, w=None, b=None):
        return ops.batch_norm(
            x, w if affine else None, b if affine else None,
            running[0] if running else None, running[1] if running else None,
            training=training, momentum=momentum, eps=1e-5,
            num_batches_tracked=running[2] if running else 0,
        )  # fmt: skip

    return op


@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (2, 3), (4, 3, 5), (2, 3, 4, 5), (1, 3, 2, 2)])
@pytest.mark.parametrize("training, tracked", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_replays(affine, training, tracked, shape, dtype, kernels):
    running = None
    if tracked:
        running = (_draw(3, dtype, 5), _unit(3, dtype, 6) + 0.5, np.zeros((), np.int64))
    inputs = [_draw(shape, dtype)] + ([_draw(3, dtype, 1), _draw(3, dtype, 2)] if affine else [])
    with _numba.use_kernels(kernels):
        for momentum in (0.1, None):
            check_replay(
                _bn(training, affine, running, momentum), *inputs,
                buffers=list(running) if running else (),
            )  # fmt: skip


@pytest.mark.parametrize("kernels", [True, False])
def test_batch_norm_replays_channels_last_images(kernels):
    x = _draw((2, 4, 3, 3), np.float32).transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2)
    running = (np.zeros(3, np.float32), np.ones(3, np.float32), np.zeros((), np.int64))

    def op(t, w, b):
        t = ops.transpose(ops.transpose(t, (0, 2, 3, 1)), (0, 3, 1, 2))  # views: NHWC memory
        return _bn(True, True, running)(t, w, b)

    with _numba.use_kernels(kernels):
        check_replay(op, x.transpose(0, 2, 3, 1).copy(order="C").transpose(0, 3, 1, 2)[:, :3],
                     _draw(3, "f4", 1), _draw(3, "f4", 2), buffers=list(running))  # fmt: skip


def test_batch_norm_counts_the_batches_in_place_and_so_does_its_replay():
    tracked = np.zeros((), np.int64)
    rm, rv = np.zeros(2), np.ones(2)
    check_replay(_bn(True, False, (rm, rv, tracked), momentum=None), _draw((5, 2), "f8"),
                 buffers=[rm, rv, tracked], rounds=3)  # fmt: skip
    # the record, then each round's replay (undone by check_replay) and eager call
    assert int(tracked) == 1 + 3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 5), (1, 3), (), (0, 3), (2, 3, 4)])
@pytest.mark.parametrize("p", [0.3, 1.0])
def test_dropout_replays_the_same_draws(shape, p, dtype):
    gen = np.random.default_rng(7)
    check_replay(lambda t: ops.dropout(t, p, gen), _draw(shape, dtype), rngs=[gen], rounds=3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (3, 2, 2), (1, 1, 1, 1), (0, 2, 3, 3)])
@pytest.mark.parametrize("p", [0.5, 1.0])
def test_dropout2d_replays_the_same_draws(shape, p, dtype):
    gen = np.random.default_rng(8)
    check_replay(lambda t: ops.dropout2d(t, p, gen), _draw(shape, dtype), rngs=[gen])
