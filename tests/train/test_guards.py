"""fit's guards against a diverging run (issue 14.3): non-finite weights after the last step,
a non-finite validation loss or metric, and a loss that explodes while staying finite."""

import warnings

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.train import DivergenceWarning


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)), rng.integers(0, 3, n)


def mlp():
    return nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))


def test_nan_weights_after_the_last_step_are_an_error_naming_epoch_and_batch():
    x, y = data()
    with np.errstate(all="ignore"), pytest.raises(
        FloatingPointError,
        match=r"fit: the weights of layer '\S+ Linear' became (nan|inf|NaN/Inf).*epoch 1.*"
        r"batch 1.*learning rate too high.*clip_grad_norm",
    ):  # fmt: skip
        sn.fit(mlp(), x, y, optimizer="sgd", lr=1e40, epochs=1, batch_size=64, verbose=0)


def test_the_issue_call_with_validation_data_no_longer_returns_nan_weights():
    x, y = data()
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match=r"epoch 1"):
        sn.fit(mlp(), x, y, optimizer="sgd", lr=1e40, epochs=1, batch_size=64,
               validation_data=(x, y), verbose=0)  # fmt: skip


def test_a_non_finite_validation_loss_is_an_error_naming_the_epoch():
    """Finite weights whose outputs overflow on the validation data only."""
    x, _ = data()
    y = np.zeros((64, 3))
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    x_val = np.full((8, 4), 1e30)
    with np.errstate(all="ignore"), pytest.raises(
        FloatingPointError,
        match=r"fit: the validation loss \(val_loss\) became (nan|inf) at epoch 1\. .*"
        r"x_val",
    ):  # fmt: skip
        sn.fit(model, x, y, loss="mse", optimizer="sgd", lr=1e-3, epochs=2, batch_size=64,
               validation_data=(x_val, np.zeros((8, 3))), verbose=0)  # fmt: skip


def test_a_non_finite_training_metric_is_an_error():
    x = np.random.default_rng(0).standard_normal((16, 2))
    y = np.full((16, 1), 1e20, dtype=np.float32)  # finite float32, its square is not
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    with (
        np.errstate(all="ignore"),
        pytest.raises(FloatingPointError, match=r"(loss|rmse).* became (nan|inf) at epoch 1"),
    ):
        sn.fit(model, x, y, loss="l1", optimizer="sgd", lr=1e-9, epochs=1, metrics=["rmse"],
               verbose=0)  # fmt: skip


def test_a_loss_exploding_while_finite_warns_once_naming_the_epoch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 3))
    y = rng.standard_normal((64, 1))
    model = nn.Sequential(nn.Linear(3, 16, rng=0), nn.Linear(16, 1, rng=1))
    with pytest.warns(DivergenceWarning, match=r"fit: at epoch \d+ the training loss \(\S+\) is "
                      r"\S+ times its first-epoch value .*learning rate") as record:  # fmt: skip
        with np.errstate(all="ignore"), pytest.raises(FloatingPointError):
            sn.fit(model, x, y, loss="mse", optimizer="sgd", lr=0.6, epochs=60, batch_size=64,
                   verbose=0)  # fmt: skip
    assert len([w for w in record if w.category is DivergenceWarning]) == 1


def test_a_healthy_run_does_not_warn():
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sn.fit(mlp(), x, y, optimizer="adam", lr=0.01, epochs=5, verbose=0,
               validation_data=(x, y), metrics=["accuracy"])  # fmt: skip
