"""Layer constructors refuse values that would only fail (or silently mislead) later."""

import math

import pytest

from sinapsi import nn


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: nn.LeakyReLU("x"), r"LeakyReLU: negative_slope must be a finite number\. "
                                    r"Received: negative_slope='x'"),
        (lambda: nn.LeakyReLU(math.nan), "negative_slope must be a finite number"),
        (lambda: nn.ELU(None), r"ELU: alpha must be a finite number\. Received: alpha=None"),
        (lambda: nn.ELU(True), "alpha must be a finite number"),
        (lambda: nn.Softplus(beta=0), r"Softplus: beta must be a positive number"),
        (lambda: nn.Softplus(beta=-1.0), "beta must be a positive number"),
        (lambda: nn.Softplus(threshold=math.inf), "threshold must be a finite number"),
        (lambda: nn.BatchNorm1d(4, eps=math.nan), r"BatchNorm1d: eps must be a positive number"),
        (lambda: nn.BatchNorm1d(4, eps=math.inf), "eps must be a positive number"),
        (lambda: nn.BatchNorm1d(4, momentum="0.1"), r"momentum must be in \[0, 1\] or None"),
        (lambda: nn.Normalization(eps=math.inf), "Normalization: eps must be >= 0"),
    ],
)  # fmt: skip
def test_bad_numbers_are_refused_naming_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: nn.Linear(3, 2, bias="no"),
        lambda: nn.BatchNorm1d(4, affine="yes"),
        lambda: nn.BatchNorm1d(4, track_running_stats=0),
    ],
)
def test_flags_must_be_bools(build):
    with pytest.raises(TypeError, match=r"must be True or False\. Received: \w+="):
        build()


def test_good_values_still_build_and_keep_their_config():
    assert nn.LeakyReLU(0.2).get_config() == {"negative_slope": 0.2}
    assert nn.Softplus(beta=2, threshold=10).get_config() == {"beta": 2.0, "threshold": 10.0}
    assert nn.Linear(3, 2, bias=False).bias is None
    assert nn.BatchNorm1d(4, affine=False).weight is None
