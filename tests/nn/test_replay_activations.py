"""Every activation replays bit for bit (testing.check_replay): the composites of
sinapsi.functional, whose masks come from comparison ops (a mask made with ``x.data > 0`` would
keep the first call's values), and every activation Module, by name as get_activation builds
them; 0-d, zero-size and batch-1 inputs, float32 and float64."""

import numpy as np
import pytest

from sinapsi import functional as F
from sinapsi import nn
from sinapsi.nn.activations import _ACTIVATIONS
from sinapsi.testing import check_replay

DTYPES = ["float32", "float64"]
SHAPES = [(4, 5), (), (0, 3), (1, 6)]

COMPOSITES = {
    "leaky_relu": lambda x: F.leaky_relu(x * 3.0, 0.2),
    "elu": lambda x: F.elu(x * 3.0, 0.7),
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, "tanh"),
    "softplus": lambda x: F.softplus(x * 10.0, 0.5, 3.0),  # both sides of the threshold
    "relu6x5": lambda x: F.relu6(x * 5.0),  # both kinks
    "silu": F.silu,
}

MODULES = {
    **{name: cls for name, cls in _ACTIVATIONS.items()},
    "LeakyReLU(0.3)": lambda: nn.LeakyReLU(0.3),
    "ELU(2.0)": lambda: nn.ELU(2.0),
    "GELU(tanh)": lambda: nn.GELU("tanh"),
    "Softplus(2, 1)": lambda: nn.Softplus(2.0, 1.0),
    "Softmax(0)": lambda: nn.Softmax(0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_functional_composites_replay(rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    for name, fn in COMPOSITES.items():
        try:
            check_replay(fn, x, seed=len(name))
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_activation_modules_replay(rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    for name, make in MODULES.items():
        if shape == () and name.startswith(("softmax", "log_softmax", "Softmax")):
            continue  # a softmax needs an axis
        layer = make()
        try:
            check_replay(lambda x, layer=layer: layer(x * 4.0), x, seed=len(name))
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


def test_masks_follow_the_new_values():
    """The values cross the kinks between the recorded call and the replay: a frozen mask
    would give the old side's formula."""
    x = np.array([-2.0, -0.5, 0.5, 7.0], dtype="float32")
    plain = {"relu6": F.relu6, "softplus": lambda x: F.softplus(x, 1, 1)}
    for name, fn in {**COMPOSITES, **plain}.items():
        try:
            check_replay(fn, x, new_inputs=[-x])
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None
