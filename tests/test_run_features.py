"""The run keys the playground exports (issue 15): [data] features, [training] l1 / l2 /
dampening / nesterov, and `prepare_run`, the start that `sinapsi train` and the playground share
so an exported run trains to the same numbers."""

import numpy as np
import pytest

import sinapsi
from sinapsi import evaluate, fit
from sinapsi.config import ConfigError, validate_config
from sinapsi.experiment import prepare_run, run


def _cfg(**sections):
    raw = {
        "name": "pts",
        "data": {"source": "spiral", "n_samples": 200, "val_size": 0.0, "test_size": 0.5},
        "model": {"hidden": [8, 8], "activation": "tanh"},
        "training": {"epochs": 3, "batch_size": 10, "optimizer": "sgd", "lr": 0.03},
    }
    for section, keys in sections.items():
        raw[section] = {**raw[section], **keys}
    return raw


# ---------------------------------------------------------------------------- checking
@pytest.mark.parametrize(
    "section, keys, message",
    [
        ("data", {"features": []}, r"features must name at least one input"),
        ("data", {"features": ["x1", "x3"]}, r"'features' key of \[data\].*Got 'x3'"),
        ("data", {"features": ["x1", "x1"]}, r"features names 'x1' twice"),
        ("data", {"features": "x1"}, r"features must be an array of strings"),
        ("training", {"l1": -0.1}, r"\[training\] l1 must be >= 0"),
        ("training", {"l2": float("nan")}, r"l2 must be a finite number"),
        ("training", {"dampening": 1.5}, r"dampening must be a fraction in \[0, 1\)"),
        ("training", {"nesterov": 1}, r"nesterov must be true or false"),
    ],
)
def test_bad_new_keys_are_one_line_errors(section, keys, message):
    with pytest.raises(ConfigError, match=message) as info:
        validate_config(_cfg(**{section: keys}), "run.toml")
    assert "\n" not in str(info.value) and str(info.value).startswith("run.toml: ")


def test_features_only_for_points_and_sgd_only_keys():
    with pytest.raises(ConfigError, match=r"features applies to 2-D points.*source is 'iris'"):
        validate_config({"data": {"source": "iris", "features": ["x1"]}})
    for key, value in (("dampening", 0.9), ("nesterov", True)):
        raw = _cfg(training={"optimizer": "adam", key: value})
        with pytest.raises(ConfigError, match=rf"{key} applies to optimizer = 'sgd' only"):
            validate_config(raw)
    with pytest.raises(ConfigError, match=r"[Nn]esterov"):  # the optimizer's own check
        validate_config(_cfg(training={"momentum": 0.9, "dampening": 0.5, "nesterov": True}))


def test_a_csv_with_more_than_two_columns_cannot_take_features(tmp_path):
    path = tmp_path / "three.csv"
    rows = [f"{i % 7},{i % 5},{i % 3},{i % 2}" for i in range(40)]
    path.write_text("a,b,c,label\n" + "\n".join(rows) + "\n")
    cfg = validate_config({"data": {"source": "csv", "path": str(path), "features": ["x1"]}})
    with pytest.raises(ConfigError, match=r"features needs 2-D points .* has 3 feature columns"):
        prepare_run(cfg)


# ---------------------------------------------------------------------------- features
def test_features_feed_the_network_and_the_saved_model_takes_raw_points(tmp_path):
    names = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    cfg = validate_config(_cfg(data={"features": names, "standardize": True}))
    prep = prepare_run(cfg)
    assert prep.data.train[0].shape[1] == 7 and prep.model[0].in_features == 7
    raw = prep.data.raw_test_x
    assert raw.shape == (100, 2) and prep.data.raw_train_x.shape == (100, 2)
    # the network's inputs are the features of the raw points, standardized
    x1, x2 = raw[:, 0].astype(np.float64), raw[:, 1].astype(np.float64)
    expected = np.stack([x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)], axis=1)
    expected = prep.data.standardizer.transform(expected.astype(np.float32))
    np.testing.assert_allclose(prep.data.test[0], expected, rtol=1e-5, atol=1e-5)

    result = run(cfg, tmp_path / "run", verbose=0)
    saved = sinapsi.load(result.folder / "model.safetensors")
    assert type(saved[0]).__name__ == "PointFeatures" and type(saved[1]).__name__ == "Normalization"
    trained = prepare_run(cfg)
    fit(trained.model, *trained.data.train, **trained.fit_kwargs, verbose=0)
    np.testing.assert_allclose(
        saved(raw).numpy(), trained.model(trained.data.test[0]).numpy(), rtol=1e-5, atol=1e-6
    )
    meta = sinapsi.io.load_checkpoint(result.folder / "model.safetensors").metadata
    assert meta["preprocessing"] == "0,1"
    report = (result.folder / "report.html").read_text()
    assert "Not drawn" not in report and "Decision boundary" in report


def test_prepare_run_then_fit_gives_exactly_the_runs_test_loss(tmp_path):
    """What the playground relies on: the same config, trained by fit on prepare_run's objects
    (with extra epochs cut short by a callback), reaches the very numbers of `sinapsi train`."""
    cfg = validate_config(
        _cfg(
            data={"features": ["x1", "x2", "sin(x1)"], "noise": 0.1},
            model={"batch_norm": True, "dropout": 0.1},
            training={"optimizer": "adam", "lr": 0.01, "epochs": 4, "clip_grad_norm": 1.0},
        )
    )
    result = run(cfg, tmp_path / "run", verbose=0, measure_train=True)

    class StopAt(sinapsi.train.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch + 1 == 4:
                self.trainer.stop_training = True

    prep = prepare_run(cfg)
    kwargs = {**prep.fit_kwargs, "epochs": 1_000_000}
    kwargs["callbacks"] = [*kwargs["callbacks"], StopAt()]
    fit(prep.model, *prep.data.train, **kwargs, verbose=0)
    test = evaluate(prep.model, *prep.data.test, loss=prep.cfg["training"]["loss"])
    assert test["loss"] == result.test["loss"]
    # the training set measured as the test set (eval mode), not the history's running numbers
    train = evaluate(prep.model, *prep.data.train, loss=prep.cfg["training"]["loss"])
    assert result.train["loss"] == train["loss"] != result.history.history["loss"][-1]


def test_momentum_in_the_notes_form_and_penalties_reach_the_optimizer_and_fit():
    cfg = validate_config(
        _cfg(training={"momentum": 0.9, "dampening": 0.9, "l1": 0.001, "l2": 0.01})
    )
    prep = prepare_run(cfg)
    group = prep.optimizer.param_groups[0]
    assert group["momentum"] == 0.9 and group["dampening"] == 0.9 and not group["nesterov"]
    assert prep.fit_kwargs["l1"] == 0.001 and prep.fit_kwargs["l2"] == 0.01
    plain = prepare_run(validate_config(_cfg()))
    assert "l1" not in plain.fit_kwargs and "l2" not in plain.fit_kwargs


def test_l1_l2_change_the_trained_weights_of_a_run(tmp_path):
    plain = run(validate_config(_cfg()), tmp_path / "plain", verbose=0)
    penalized = run(validate_config(_cfg(training={"l1": 0.01, "l2": 0.1})), tmp_path / "pen", 0)
    w_plain = sinapsi.load(plain.folder / "model.safetensors")[1].weight.numpy()  # 0: Normalization
    w_pen = sinapsi.load(penalized.folder / "model.safetensors")[1].weight.numpy()
    assert np.abs(w_pen).sum() < np.abs(w_plain).sum()  # pulled towards 0
