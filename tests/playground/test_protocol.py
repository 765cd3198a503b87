"""The playground's protocol: settings bounds, message checks, settings -> config and TOML."""

from __future__ import annotations

import json

import pytest

from sinapsi.config import tomllib, validate_config
from sinapsi.playground import protocol
from sinapsi.playground.protocol import (
    BOUNDS,
    DEFAULTS,
    ProtocolError,
    config_to_toml,
    needs_reset,
    settings_to_config,
    validate_message,
    validate_settings,
)


def one_line(e: pytest.ExceptionInfo) -> str:
    text = str(e.value)
    assert "\n" not in text
    return text


def test_defaults_are_within_the_bounds_and_every_key_has_bounds():
    assert set(DEFAULTS) == set(BOUNDS)
    assert validate_settings(DEFAULTS) == DEFAULTS
    json.dumps(BOUNDS)  # sent in "hello"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("noise", 51, "[0, 50]"),
        ("noise", 2.5, "an integer"),
        ("noise", "3", "an integer"),
        ("noise", True, "an integer"),
        ("learningRate", 0.0, "[1e-05, 10]"),
        ("learningRate", float("nan"), "a number"),
        ("numSamples", 5001, "[50, 5000]"),
        ("activation", "swish", "relu"),
        ("batchNorm", 1, "true or false"),
        ("hidden", [4] * 13, "at most 12"),
        ("hidden", [65], "[1, 64]"),
        ("hidden", [0], "[1, 64]"),
        ("hidden", "4,2", "layer sizes"),
        ("features", [], "1 to 7"),
        ("features", ["x1", "x1"], "distinct"),
        ("features", ["x3"], "x1^2"),
        ("seed", -1, "[0, 2.14748e+09]"),
    ],
)
def test_a_bad_setting_is_one_line_naming_key_value_and_range(key, value, words):
    with pytest.raises(ProtocolError) as e:
        validate_settings({key: value}, DEFAULTS)
    text = one_line(e)
    assert f"setting {key} = " in text and words in text


def test_unknown_setting_and_non_object_are_refused():
    with pytest.raises(ProtocolError, match='unknown setting "lr"'):
        validate_settings({"lr": 0.1})
    with pytest.raises(ProtocolError, match="JSON object"):
        validate_settings([1])


def test_partial_settings_keep_the_rest_and_do_not_modify_current():
    current = dict(DEFAULTS)
    new = validate_settings({"hidden": [3], "features": ["sin(x2)", "x1"]}, current)
    assert new["hidden"] == [3] and new["features"] == ["x1", "sin(x2)"]  # canonical order
    assert current == DEFAULTS
    assert new["activation"] == DEFAULTS["activation"]
    assert validate_settings({"learningRate": 1})["learningRate"] == 1.0


def test_problem_and_dataset_follow_each_other():
    reg = validate_settings({"problem": "regression"})
    assert reg["dataset"] == "reg-plane" and reg["numSamples"] == 1200
    assert validate_settings({"dataset": "reg-gauss"})["problem"] == "regression"
    back = validate_settings({"dataset": "spiral"}, reg)
    assert back["problem"] == "classification" and back["numSamples"] == 500
    with pytest.raises(ProtocolError, match="does not fit"):
        validate_settings({"dataset": "xor", "problem": "regression"})
    with pytest.raises(ProtocolError, match='loss = "mse" does not fit'):
        validate_settings({"loss": "mse"})
    assert validate_settings({"loss": "huber"}, reg)["loss"] == "huber"
    assert validate_settings({"loss": "softmax_mse"})["loss"] == "softmax_mse"
    with pytest.raises(ProtocolError, match='loss = "softmax_mse" does not fit'):
        validate_settings({"loss": "softmax_mse"}, reg)
    assert (
        validate_settings({"problem": "classification"}, {**reg, "loss": "mae"})["loss"] == "auto"
    )


def test_needs_reset_only_for_keys_that_change_the_run():
    assert not needs_reset(DEFAULTS, {**DEFAULTS, "learningRate": 0.1, "showTestData": True})
    assert needs_reset(DEFAULTS, {**DEFAULTS, "hidden": [3]})


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "dance"}', "unknown message type"),
        ('{"kind": "play"}', "unknown message type"),
        ('{"type": "play", "now": 1}', "unknown field 'now'"),
        ('{"type": "settings"}', "needs the field 'settings'"),
        ('{"type": "settings", "settings": 3}', "a JSON object"),
        ('{"type": "set_weight", "layer": 0, "row": 0, "col": 0}', "needs the field 'value'"),
        ('{"type": "set_weight", "layer": -1, "row": 0, "col": 0, "value": 1}', "integer"),
        ('{"type": "set_weight", "layer": 0, "row": 0, "col": 0, "value": "1"}', "finite"),
        ('{"type": "set_weight", "layer": 0, "row": 0, "col": 0, "value": 1e9}', "finite"),
        ('{"type": "set_weight", "layer": 0, "row": 0, "col": 0, "value": NaN}', "finite"),
        ('{"type": "export", "what": "pdf"}', "toml, model, report"),
        ('{"type": "upload", "name": "../x.csv", "text": "1,2,0\\n3,4,1"}', "plain file name"),
        ('{"type": "upload", "name": "a.csv", "text": "1,2\\n3,4"}', "needs 3"),
    ],
)
def test_malformed_messages_are_one_line_errors(raw, words):
    with pytest.raises(ProtocolError) as e:
        validate_message(raw)
    assert words in one_line(e)


def test_oversize_message_and_upload_are_refused():
    with pytest.raises(ProtocolError, match="at most 2,097,152 bytes"):
        validate_message(" " * (protocol.MAX_MESSAGE_BYTES + 1))
    big = "1,2,0\n" * 200_000
    with pytest.raises(ProtocolError, match="at most 1,048,576"):
        validate_message(json.dumps({"type": "upload", "name": "a.csv", "text": big}))
    rows = "1,2,0\n" * 10_002
    with pytest.raises(ProtocolError, match="at most 10,000"):
        protocol.check_upload("a.csv", rows)


def test_good_messages_give_type_and_payload():
    assert validate_message('{"type": "play"}') == ("play", {})
    kind, payload = validate_message(
        '{"type": "set_weight", "layer": 1, "row": 0, "col": 2, "value": -1}'
    )
    assert kind == "set_weight" and payload == {"layer": 1, "row": 0, "col": 2, "value": -1.0}
    assert validate_message(b'{"type": "export", "what": "toml"}') == ("export", {"what": "toml"})


def test_upload_guesses_the_problem():
    assert protocol.check_upload("a.csv", "x1,x2,label\n1,2,0\n3,4,1\n") == "classification"
    assert protocol.check_upload("a.csv", "1,2,0.5\n3,4,1.25\n") == "regression"
    assert protocol.check_upload("a.csv", "1,2,red\n3,4,blue\n") == "classification"


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"optimizer": "momentum", "regularization": "l2", "regularizationRate": 0.01},
        {"optimizer": "nesterov", "clipGradNorm": 1.5, "features": ["x1", "x1*x2"]},
        {"optimizer": "rmsprop", "batchNorm": True, "dropout": 0.2, "hidden": []},
        {"optimizer": "adam", "regularization": "l1", "regularizationRate": 0.003},
        {"problem": "regression", "loss": "huber", "noise": 25, "percTrainData": 70},
        {"loss": "softmax_mse", "dataset": "xor"},  # the TF Playground's squared error
    ],
)
def test_settings_to_config_validates_and_round_trips_through_toml(changes):
    settings = validate_settings(changes)
    cfg = settings_to_config(settings)
    checked = validate_config(json.loads(json.dumps(cfg)), "<playground>")
    assert checked["data"]["standardize"] is False and checked["data"]["val_size"] == 0.0
    assert checked["training"]["lr"] == settings["learningRate"]
    assert checked["data"]["test_size"] == (100 - settings["percTrainData"]) / 100
    text = config_to_toml(cfg, ["exported at epoch 3", "test loss 0.25"])
    assert text.startswith("# exported at epoch 3\n# test loss 0.25\n")
    assert tomllib.loads(text) == cfg


def test_optimizer_mapping():
    mom = settings_to_config(validate_settings({"optimizer": "momentum", "momentum": 0.8}))
    assert mom["training"]["optimizer"] == "sgd"
    assert mom["training"]["momentum"] == mom["training"]["dampening"] == 0.8
    nes = settings_to_config(validate_settings({"optimizer": "nesterov"}))["training"]
    assert nes["nesterov"] is True and "dampening" not in nes
    sgd = settings_to_config(DEFAULTS)["training"]
    assert "momentum" not in sgd and "l1" not in sgd and "clip_grad_norm" not in sgd


def test_upload_needs_a_path_and_maps_to_csv(tmp_path):
    settings = validate_settings({"dataset": "upload"})
    with pytest.raises(ProtocolError, match="upload one first"):
        settings_to_config(settings)
    path = tmp_path / "pts.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(20)))
    cfg = settings_to_config(settings, upload_path=str(path))
    assert cfg["data"]["source"] == "csv" and cfg["data"]["path"] == str(path)
    validate_config(cfg)


def test_toml_strings_and_tables():
    cfg = {"name": 'a "quoted" \\ name', "data": {"source": "csv", "path": "C:\\x\\ü.csv"},
           "training": {"early_stopping": {"patience": 3}, "lr": 1e-05, "loss": None}}  # fmt: skip
    back = tomllib.loads(config_to_toml(cfg))
    assert back["name"] == cfg["name"] and back["data"] == cfg["data"]
    assert back["training"] == {"early_stopping": {"patience": 3}, "lr": 1e-05}
