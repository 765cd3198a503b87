"""Every control of the page, through the ASGI test client: each setting changes the training
as it should (the data, the network, the optimizer, the loss...), seen in what the server sends
back after one epoch, and in the run it prepares."""

from __future__ import annotations

import base64

import numpy as np
import pytest

pytest.importorskip("fastapi")


from playground_checks import SMALL  # noqa: E402


def _run(client, settings):
    """data, network and the frame after one epoch of a run of SMALL + ``settings``."""
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_json({"type": "settings", "settings": {**SMALL, **settings}})
        got: dict = {}
        while "network" not in got:  # the new run's messages follow the settings' echo
            message = ws.receive_json()
            if message["type"] == "error":
                raise AssertionError(message["message"])
            if message["type"] == "frame":
                ws.send_json({"type": "ack"})
            if message["type"] == "settings":
                got = {"settings": message}
            elif "settings" in got:
                got[message["type"]] = message
        ws.send_json({"type": "step"})
        while True:
            message = ws.receive_json()
            if message["type"] == "data":
                got["data"] = message
            if message["type"] == "frame":
                ws.send_json({"type": "ack"})
                if message["epoch"] >= 1:
                    got["frame"] = message
                    return got


@pytest.fixture(scope="module")
def baseline(client):
    return _run(client, {})


def _loss(got):
    return got["frame"]["trainLoss"], got["frame"]["testLoss"]


def _weights(got):
    return [np.asarray(w, dtype=float) for w in got["frame"]["weights"]]


def _changed_losses(base, got):
    return not np.allclose(_loss(base), _loss(got), rtol=1e-7, atol=0)


# (setting, value, what must change): each control against the default run
CONTROLS = [
    ("optimizer", "adam"),
    ("optimizer", "momentum"),
    ("optimizer", "nesterov"),
    ("optimizer", "adamw"),
    ("optimizer", "rmsprop"),
    ("optimizer", "adagrad"),
    ("activation", "relu"),
    ("activation", "sigmoid"),
    ("activation", "linear"),
    ("init", "he"),
    ("init", "normal"),
    ("batchNorm", True),
    ("dropout", 0.3),
    ("regularization", "l2"),
    ("loss", "softmax_mse"),
    ("clipGradNorm", 0.01),
    ("batchSize", 3),
    ("seed", 1),
]


@pytest.mark.parametrize("key, value", CONTROLS, ids=[f"{k}={v}" for k, v in CONTROLS])
def test_each_training_control_changes_the_run(client, baseline, key, value):
    extra = {"regularizationRate": 0.3} if key == "regularization" else {}
    got = _run(client, {key: value, **extra})
    assert got["settings"]["settings"][key] == value
    assert _changed_losses(baseline, got), f"{key}={value} left the losses as they were"


def test_the_same_settings_give_the_same_numbers(client, baseline):
    again = _run(client, {})
    assert _loss(again) == _loss(baseline)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(again), _weights(baseline)))


def test_the_learning_rate_scales_the_first_step(client, baseline):
    slow = _run(client, {"learningRate": 0.0001})
    initial = _run(client, {"learningRate": 0.0001, "seed": 0})
    assert _loss(slow) == _loss(initial)
    assert _changed_losses(baseline, slow)


def test_regularization_rate_shrinks_the_weights(client):
    plain = _run(client, {"optimizer": "sgd", "learningRate": 0.3})
    l1 = _run(client, {"learningRate": 0.3, "regularization": "l1", "regularizationRate": 0.5})
    assert sum(np.abs(w).sum() for w in _weights(l1)) < sum(
        np.abs(w).sum() for w in _weights(plain)
    )


@pytest.mark.parametrize(
    "key, value",
    [("noise", 30), ("percTrainData", 80), ("numSamples", 60), ("dataset", "xor"),
     ("dataset", "spiral"), ("dataset", "moons"), ("dataset", "gauss")],
)  # fmt: skip
def test_each_data_control_changes_the_points(client, baseline, key, value):
    got = _run(client, {key: value})
    base, new = baseline["data"], got["data"]
    n_train, n_test = len(new["train"]["x"]), len(new["test"]["x"])
    # the split is stratified by class: the train share within a point of the ratio
    if key == "percTrainData":
        assert n_train + n_test == 100 and abs(n_train - 80) <= 1
    elif key == "numSamples":
        assert n_train + n_test == 60 and abs(n_train - 30) <= 1
    else:
        assert n_train + n_test == 100 and abs(n_train - 50) <= 1
    assert new["train"]["x"] != base["train"]["x"] or new["train"]["y"] != base["train"]["y"]


def test_regression_data_sets_send_real_targets(client):
    got = _run(client, {"dataset": "reg-gauss"})
    assert got["data"]["problem"] == "regression"
    assert got["network"]["layers"][-1] == 1
    y = np.asarray(got["data"]["train"]["y"])
    assert y.dtype.kind == "f" and len(np.unique(y)) > 10


def test_features_and_hidden_layers_shape_the_network(client):
    got = _run(client, {"features": ["x1^2", "x2^2", "sin(x1)"], "hidden": [5, 4, 3]})
    assert got["network"]["features"] == ["x1^2", "x2^2", "sin(x1)"]
    assert got["network"]["layers"] == [3, 5, 4, 3, 1]
    assert [w.shape for w in _weights(got)] == [(5, 3), (4, 5), (3, 4), (2, 3)]
    assert [len(layer) for layer in got["frame"]["neurons"]] == [5, 4, 3]
    assert len(got["network"]["inputMaps"]) == 3
    for layer in got["frame"]["neurons"]:
        for encoded in layer:
            assert len(base64.b64decode(encoded)) == got["frame"]["g"] ** 2


def test_dead_relus_are_named_with_the_remedy(client):
    # a huge learning rate with ReLU kills units: the diagnosis names them and the remedy
    got = _run(client, {"activation": "relu", "learningRate": 10.0, "hidden": [8, 8]})
    kinds = {d["kind"] for d in got["frame"]["diagnosis"]}
    assert kinds & {"dead_relu", "exploding"}, got["frame"]["diagnosis"]
    text = " ".join(d["message"] for d in got["frame"]["diagnosis"])
    assert "\n" not in text and any(w in text for w in ("leaky_relu", "clipping", "lower"))
