"""testing.check_replay: the checker sinapsi.capture's op replays are tested with, tested."""

import numpy as np
import pytest

from sinapsi import backend
from sinapsi.autograd import make_result
from sinapsi.ops.elementwise import floating
from sinapsi.testing import check_replay


def _tanh(replayed: bool):
    def op(x):
        x = floating(x)
        xp = backend.get_array_module(x.data)
        y = xp.tanh(x.data)

        def replay() -> None:
            if replayed:
                xp.tanh(x.data, out=y)

        return make_result(y, "tanh", (x,), lambda g: (g * (1.0 - y * y),), replay)

    return op


def test_a_faithful_replay_passes():
    check_replay(_tanh(True), np.linspace(-2, 2, 12).reshape(3, 4))


def test_a_stale_replay_is_caught():
    with pytest.raises(AssertionError, match="output differs after replay"):
        check_replay(_tanh(False), np.linspace(-2, 2, 12).reshape(3, 4))


def test_an_op_without_replay_is_named():
    def op(x):
        return make_result(x.data * 2, "twice", (x,), lambda g: (g * 2,))

    with pytest.raises(AssertionError, match="op 'twice' has no replay"):
        check_replay(op, np.ones(3))


def test_a_generator_drawn_differently_is_caught():
    gen = np.random.default_rng(0)

    def op(x):
        mask = gen.random(x.shape) > 0.5
        y = x.data * mask

        def replay() -> None:
            np.multiply(x.data, mask, out=y)  # the old mask: no new draw

        return make_result(y, "drop", (x,), lambda g: (g * mask,), replay)

    with pytest.raises(AssertionError):
        check_replay(op, np.ones((4, 4)), rngs=[gen])
