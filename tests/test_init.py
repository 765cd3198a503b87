"""Weight initializers: each draws from the distribution of its formula (PyTorch's), fans and
gains equal torch.nn.init's, seeds reproduce, dtypes follow the default, bad names are errors.

The moment checks draw n = 200,000 values. The sample mean has standard error sigma / sqrt(n)
and, for a normal sample, the sample std has standard error about sigma / sqrt(2 n) (smaller
for a uniform one: sqrt(0.2) sigma / sqrt(n)). We allow 5 standard errors:
|mean - mu| < 5 sigma / sqrt(n) and |std - sigma| < 5 sigma / sqrt(2 n), i.e. about 1.1% and
0.8% of sigma; a wrong formula (a missing gain, fan_in for fan_out, 2 for 6) is off by far more.
"""

import math

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import init

SHAPE = (400, 500)  # (fan_out, fan_in) = (400, 500), like nn.Linear(500, 400)
FAN_IN, FAN_OUT = 500, 400
CONV = (20, 8, 5, 5)  # (out, in, kh, kw): fan_in = 8 * 25 = 200, fan_out = 20 * 25 = 500
FANS = {SHAPE: (FAN_IN, FAN_OUT), CONV: (200, 500)}  # written out, not from compute_fans


def assert_moments(w, mu, sigma):
    x = np.asarray(w, dtype=np.float64).reshape(-1)
    n = x.size
    assert abs(x.mean() - mu) < 5 * sigma / math.sqrt(n), (x.mean(), mu)
    assert abs(x.std() - sigma) < 5 * sigma / math.sqrt(2 * n), (x.std(), sigma)


def assert_within(w, bound, reach=1e-3):
    """Every value in [-bound, bound], and the extremes within ``reach * bound`` of the ends
    (n uniform draws come within about 2 * bound / n of each end: for n = 200,000, 1e-3 is
    many times that)."""
    b = w.dtype.type(bound)  # the float32 rounding of a draw can land on float32(bound)
    assert -b <= w.min() and w.max() <= b, (w.min(), w.max(), bound)
    limit = (1 - reach) * bound
    assert w.min() < -limit and w.max() > limit, (w.min(), w.max(), bound)


def uniform_std(bound):
    return bound / math.sqrt(3.0)


# ---------------------------------------------------------------------- the distributions


def test_normal_has_the_requested_moments():
    w = init.normal(SHAPE, mean=0.5, std=2.0, rng=0)
    assert w.shape == SHAPE
    assert_moments(w, 0.5, 2.0)


def test_uniform_has_the_requested_bounds_and_moments():
    w = init.uniform(SHAPE, low=-1.0, high=3.0, rng=0)
    assert w.shape == SHAPE
    assert w.min() >= -1.0 and w.max() <= 3.0
    assert w.min() < -0.999 and w.max() > 2.999
    assert_moments(w, 1.0, 4.0 / math.sqrt(12.0))


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3.0])
@pytest.mark.parametrize("shape", [SHAPE, CONV], ids=["linear", "conv"])
def test_xavier_uniform(shape, gain):
    fan_in, fan_out = FANS[shape]
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    w = init.xavier_uniform(shape, gain=gain, rng=1)
    assert w.shape == shape
    assert_within(w, bound)
    assert_moments(w, 0.0, uniform_std(bound))


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3.0])
@pytest.mark.parametrize("shape", [SHAPE, CONV], ids=["linear", "conv"])
def test_xavier_normal(shape, gain):
    fan_in, fan_out = FANS[shape]
    w = init.xavier_normal(shape, gain=gain, rng=2)
    assert w.shape == shape
    assert_moments(w, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


KAIMING = [  # (mode, nonlinearity, a, gain written out)
    ("fan_in", "relu", 0.0, math.sqrt(2.0)),
    ("fan_out", "relu", 0.0, math.sqrt(2.0)),
    ("fan_in", "leaky_relu", 0.0, math.sqrt(2.0)),  # slope a = 0 is ReLU
    ("fan_in", "leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
    ("fan_out", "leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
    ("fan_in", "tanh", 0.0, 5.0 / 3.0),
    ("fan_out", "tanh", 0.0, 5.0 / 3.0),
]
KAIMING_IDS = [f"{mode}-{nl}-{a}" for mode, nl, a, _ in KAIMING]


@pytest.mark.parametrize("shape", [SHAPE, CONV], ids=["linear", "conv"])
@pytest.mark.parametrize(("mode", "nonlinearity", "a", "gain"), KAIMING, ids=KAIMING_IDS)
def test_kaiming_uniform(mode, nonlinearity, a, gain, shape):
    fan_in, fan_out = FANS[shape]
    fan = fan_in if mode == "fan_in" else fan_out
    bound = gain * math.sqrt(3.0 / fan)
    w = init.kaiming_uniform(shape, a=a, mode=mode, nonlinearity=nonlinearity, rng=3)
    assert w.shape == shape
    assert_within(w, bound)
    assert_moments(w, 0.0, uniform_std(bound))


@pytest.mark.parametrize("shape", [SHAPE, CONV], ids=["linear", "conv"])
@pytest.mark.parametrize(("mode", "nonlinearity", "a", "gain"), KAIMING, ids=KAIMING_IDS)
def test_kaiming_normal(mode, nonlinearity, a, gain, shape):
    fan_in, fan_out = FANS[shape]
    fan = fan_in if mode == "fan_in" else fan_out
    w = init.kaiming_normal(shape, a=a, mode=mode, nonlinearity=nonlinearity, rng=4)
    assert w.shape == shape
    assert_moments(w, 0.0, gain / math.sqrt(fan))


def test_kaiming_defaults_are_he_for_relu_on_fan_in():
    assert_moments(init.kaiming_normal(SHAPE, rng=5), 0.0, math.sqrt(2.0 / FAN_IN))
    bound = math.sqrt(6.0 / FAN_IN)
    w = init.kaiming_uniform(SHAPE, rng=5)
    assert_within(w, bound)
    assert_moments(w, 0.0, uniform_std(bound))


def test_lecun_uniform():
    bound = math.sqrt(3.0 / FAN_IN)
    w = init.lecun_uniform(SHAPE, rng=6)
    assert w.shape == SHAPE
    assert_within(w, bound)
    assert_moments(w, 0.0, math.sqrt(1.0 / FAN_IN))


def test_lecun_normal():
    w = init.lecun_normal(SHAPE, rng=7)
    assert w.shape == SHAPE
    assert_moments(w, 0.0, math.sqrt(1.0 / FAN_IN))


def test_torch_default_is_uniform_one_over_sqrt_fan_in():
    bound = 1.0 / math.sqrt(FAN_IN)
    w = init.torch_default(SHAPE, rng=8)
    assert w.shape == SHAPE
    assert_within(w, bound)
    assert_moments(w, 0.0, uniform_std(bound))


def test_constant_initializers():
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.ones((4,)), np.ones(4))
    np.testing.assert_array_equal(init.constant((2, 2), 0.25), np.full((2, 2), 0.25))


# ------------------------------------------------------------------ fans and gains vs torch


@pytest.mark.parametrize("shape", [(3, 4), (8, 2, 3), (5, 4, 3, 2)])
def test_compute_fans_matches_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.compute_fans(shape) == tuple(expected)


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
     ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)],
)  # fmt: skip
def test_calculate_gain_matches_torch(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)


# -------------------------------------------------------------------- seeds and dtypes

SCHEMES = [
    ("normal", init.normal),
    ("uniform", init.uniform),
    ("xavier_uniform", init.xavier_uniform),
    ("xavier_normal", init.xavier_normal),
    ("kaiming_uniform", init.kaiming_uniform),
    ("kaiming_normal", init.kaiming_normal),
    ("lecun_uniform", init.lecun_uniform),
    ("lecun_normal", init.lecun_normal),
    ("torch_default", init.torch_default),
]


@pytest.mark.parametrize(("name", "fn"), SCHEMES, ids=[name for name, _ in SCHEMES])
def test_same_seed_same_weights_different_seed_different_weights(name, fn):
    a, b, c = fn((30, 20), rng=11), fn((30, 20), rng=11), fn((30, 20), rng=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    generator = np.random.default_rng(11)  # a Generator is used, and advanced, in place
    first, second = fn((30, 20), rng=generator), fn((30, 20), rng=generator)
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(("name", "fn"), SCHEMES, ids=[name for name, _ in SCHEMES])
def test_dtype_is_float32_by_default_and_float64_on_request(name, fn):
    assert fn((6, 5), rng=0).dtype == np.float32
    assert fn((6, 5), rng=0, dtype="float64").dtype == np.float64
    with sn.default_dtype("float64"):
        assert fn((6, 5), rng=0).dtype == np.float64
    single, double = fn((6, 5), rng=0), fn((6, 5), rng=0, dtype="float64")
    np.testing.assert_array_equal(single, double.astype(np.float32))  # same draws, rounded


# -------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("shape", [(5,), ()])
def test_fans_need_two_dimensions(shape):
    with pytest.raises(ValueError, match=r"at least 2 dimensions; got shape \("):
        init.compute_fans(shape)
    with pytest.raises(ValueError, match=r"at least 2 dimensions"):
        init.xavier_uniform(shape, rng=0)


def test_unknown_names_are_refused_with_the_valid_ones():
    with pytest.raises(
        ValueError,
        match=r"The 'nonlinearity' parameter of calculate_gain must be a str among \{.*'relu'"
        r".*\}\. Got 'swish' instead",
    ):
        init.calculate_gain("swish")
    with pytest.raises(
        ValueError, match=r"The 'nonlinearity' parameter of calculate_gain must be a str among"
    ):
        init.kaiming_normal(SHAPE, nonlinearity="swish", rng=0)
    with pytest.raises(
        ValueError,
        match=r"The 'mode' parameter of kaiming initialization must be a str among "
        r"\{'fan_in', 'fan_out'\}\. Got 'fan_avg' instead",
    ):
        init.kaiming_uniform(SHAPE, mode="fan_avg", rng=0)
    with pytest.raises(
        ValueError, match=r"The 'init' parameter of .* must be a str among \{.*'he'.*'xavier'.*\}"
    ):
        init.get("hee")
    with pytest.raises(ValueError, match=r"The 'init' parameter of .* must be a str among"):
        sn.nn.Linear(3, 2, init="hee")


@pytest.mark.parametrize(
    ("name", "fn"),
    [("he", init.kaiming_normal), ("xavier", init.xavier_uniform), ("lecun", init.lecun_normal),
     ("default", init.torch_default), ("glorot_normal", init.xavier_normal)],
)  # fmt: skip
def test_get_by_name(name, fn):
    assert init.get(name) is fn
    assert init.get(fn) is fn


# ------------------------------------------------------------------------------ in Linear


def test_linear_he_init():
    layer = sn.nn.Linear(FAN_IN, FAN_OUT, init="he", rng=0)
    w = np.asarray(layer.weight.data)
    assert w.shape == (FAN_OUT, FAN_IN) and w.dtype == np.float32
    assert_moments(w, 0.0, math.sqrt(2.0 / FAN_IN))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(FAN_OUT, np.float32))


def test_linear_default_init_is_torchs():
    layer = sn.nn.Linear(FAN_IN, FAN_OUT, rng=0)
    bound = 1.0 / math.sqrt(FAN_IN)
    w, b = np.asarray(layer.weight.data), np.asarray(layer.bias.data)
    assert_within(w, bound)
    assert_moments(w, 0.0, uniform_std(bound))
    assert b.shape == (FAN_OUT,) and b.dtype == np.float32
    assert_within(b, bound, reach=0.05)  # 400 draws come within ~2 * bound / 400 of the ends
    assert_moments(b, 0.0, uniform_std(bound))


def test_linear_seed_reproduces_its_weights():
    a, b = sn.nn.Linear(4, 3, rng=5), sn.nn.Linear(4, 3, rng=5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, sn.nn.Linear(4, 3, rng=6).weight.data)
