"""Mistakes met porting PyTorch's and Keras' tutorials to fit/evaluate/predict: each is a
one-line error that names what the user passed and what to do."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn


def regression_model():
    return nn.Sequential(nn.Linear(3, 8, rng=0), nn.ReLU(), nn.Linear(8, 1, rng=1))


def test_evaluate_of_a_regression_model_without_loss_says_the_default_is_cross_entropy():
    x = np.random.default_rng(0).standard_normal((20, 3))
    y = np.arange(20, dtype="float32") * 10  # whole-number targets, e.g. diabetes' 151.0
    model = regression_model()
    sn.fit(model, x, y, loss="mse", epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"one output.*loss='mse'") as e:
        sn.evaluate(model, x, y, metrics=["mae"])
    assert "\n" not in str(e.value) and "cross_entropy" in str(e.value)
    assert sn.evaluate(model, x, y, loss="mse", metrics=["mae"])["mae"] >= 0


def test_fit_refuses_cross_entropy_on_one_output_which_would_train_nothing():
    # softmax over one output is always 1: the loss is 0 and no gradient flows
    x = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match=r"one output.*bce_with_logits"):
        sn.fit(regression_model(), x, np.zeros(20, dtype=np.int64), epochs=1, verbose=0)
