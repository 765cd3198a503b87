"""The TensorFlow Playground exercises (Google's Machine Learning Crash Course: feature crosses,
nonlinearity, learning rate, regularization), ported to sinapsi: the playground's settings, the
``sinapsi train`` run they export, and what each exercise teaches, checked."""

from __future__ import annotations

import json

from sinapsi.config import validate_config
from sinapsi.experiment import Diverged, run
from sinapsi.playground.protocol import settings_to_config, validate_settings


def _train(tmp_path, epochs: int, **settings):
    """A playground setting trained for ``epochs`` epochs as its exported TOML would be."""
    cfg = settings_to_config(validate_settings(settings))
    cfg["training"]["epochs"] = epochs
    cfg["training"]["metrics"] = (
        ["accuracy"] if cfg["model"]["task"] == "classification" else ["r2"]
    )
    checked = validate_config(json.loads(json.dumps(cfg)), "exercise")
    name = "-".join(f"{k}{v}" for k, v in settings.items())[:60]
    return run(checked, tmp_path / name.replace("/", "_").replace("^", "sq"), verbose=0)


def test_feature_cross_solves_xor_with_no_hidden_layer(tmp_path):
    """Exercise 'feature crosses': x1 and x2 alone cannot separate XOR with a linear model;
    the cross x1*x2 can, with no hidden layer at all."""
    plain = _train(tmp_path, 30, dataset="xor", features=["x1", "x2"], hidden=[])
    crossed = _train(tmp_path, 30, dataset="xor", features=["x1*x2"], hidden=[])
    assert plain.test["accuracy"] < 0.7
    assert crossed.test["accuracy"] > 0.95


def test_squares_make_the_circle_linear(tmp_path):
    """A circle is a line in (x1^2, x2^2): a linear model on the squares separates it."""
    linear = _train(tmp_path, 40, dataset="circle", features=["x1", "x2"], hidden=[])
    squares = _train(tmp_path, 40, dataset="circle", features=["x1^2", "x2^2"], hidden=[])
    assert linear.test["accuracy"] < 0.75
    assert squares.test["accuracy"] > 0.95


def test_hidden_layers_give_the_nonlinearity(tmp_path):
    """Exercise 'nonlinearity': on x1, x2 only, a hidden layer of tanh neurons learns the
    circle that a linear model cannot."""
    net = _train(tmp_path, 100, dataset="circle", hidden=[4, 2], learningRate=0.1)
    assert net.test["accuracy"] > 0.95


def test_a_learning_rate_too_high_learns_nothing_and_a_sane_one_learns(tmp_path):
    """Exercise 'learning rate': at 10 the steps overshoot (the ReLUs die, or the run blows
    up and is refused); at 0.03 with Adam the spiral is learned."""
    try:
        wild = _train(tmp_path, 30, dataset="spiral", hidden=[8, 8], activation="relu",
                      learningRate=10.0, features=["x1", "x2", "x1^2", "x2^2"])  # fmt: skip
    except Diverged as e:
        assert "learning rate" in str(e)
    else:
        assert wild.test["accuracy"] < 0.65
    sane = _train(tmp_path, 200, dataset="spiral", hidden=[8, 8, 8], optimizer="adam",
                  features=["x1", "x2", "sin(x1)", "sin(x2)"], learningRate=0.03)  # fmt: skip
    assert sane.test["accuracy"] > 0.85


def test_l2_regularization_keeps_the_weights_small_on_noisy_data(tmp_path):
    """Exercise 'regularization': with noise and few points, L2 shrinks the weights (and the
    gap between training and test loss)."""
    common = dict(dataset="gauss", noise=50, numSamples=100, percTrainData=20, hidden=[8, 8],
                  learningRate=0.1, features=["x1", "x2", "x1^2", "x2^2", "x1*x2"])  # fmt: skip
    free = _train(tmp_path, 150, **common)
    tied = _train(tmp_path, 150, regularization="l2", regularizationRate=0.03, **common)
    gap = free.history.history["loss"][-1] - free.test["loss"]
    tied_gap = tied.history.history["loss"][-1] - tied.test["loss"]
    assert abs(tied_gap) < abs(gap)


def test_regression_plane_is_learned(tmp_path):
    plane = _train(tmp_path, 60, dataset="reg-plane", hidden=[2], learningRate=0.01)
    assert plane.test["r2"] > 0.95
