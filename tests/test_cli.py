"""The command line: `sinapsi demo` and `sinapsi train CONFIG.toml` end to end (files written,
report printed, targets checked, exit codes), and every configuration mistake by regex."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sinapsi
from cli_checks import one_line_error
from sinapsi.cli import DEMO_CONFIG, main
from sinapsi.config import ConfigError, load_config, validate_config
from sinapsi.io import load_checkpoint


def load_arrays(path):
    """(weights, metadata) of a run's model.safetensors, which sinapsi.load can also rebuild."""
    checkpoint = load_checkpoint(path)
    return checkpoint.model_state, checkpoint.metadata


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _accuracy(out: str) -> float:
    return float(re.search(r"test accuracy (\d\.\d+)", out).group(1))



# ---------------------------------------------------------------------------- demo
def test_demo_writes_the_run_and_reports(tmp_path, capsys):
    assert main(["demo", "--epochs", "2", "--target", "0", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    for line in ("run 'demo'", "64 -> 256 -> 128 -> 10", "BatchNorm1d", "Dropout(0.2)", "adam"):
        assert line in out
    assert "Epoch 2/2 - loss" in out  # not a terminal: one line per epoch, no redrawn bar
    assert re.search(r"result +test accuracy \d\.\d{4}, test loss \d\.\d{4}", out)
    assert re.search(r"after 2 of 2 epochs\n +best val_loss \d\.\d{4} at epoch [12]\n", out)
    assert re.search(r"time +\d+\.\d s training, \d+\.\d s in all", out)
    assert "target    test accuracy >= 0: met" in out

    run = tmp_path / "demo"
    assert f"saved     {run / 'model.safetensors'}" in out
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [1, 2] and len(history["history"]["val_accuracy"]) == 2
    arrays, meta = load_arrays(run / "model.safetensors")
    # layer 0 standardizes the raw pixels (issue 14.4); the network follows
    assert arrays["0.mean"].shape == (64,) and arrays["0.scale"].shape == (64,)
    assert arrays["1.weight"].shape == (256, 64) and "2.running_mean" in arrays
    assert sinapsi.load(run / "model.safetensors")(np.zeros((1, 64))).shape == (1, 10)
    assert meta["architecture"]["hidden"] == [256, 128] and meta["classes"] == list(range(10))
    assert meta["standardizer"] is None and meta["preprocessing"] == "0"
    assert [layer["type"] for layer in meta["layers"][:2]] == ["Normalization", "Linear"]
    assert meta["test"]["accuracy"] == pytest.approx(_accuracy(out), abs=1e-4)
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["epochs"] == 2 and config["training"]["loss"] == "cross_entropy"
    assert "all targets met (1 of 1)" in (run / "report.html").read_text()  # issue 14.19


def test_demo_reaches_97_percent_with_the_default_epochs(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert _accuracy(out) >= 0.97
    assert "after 30 of 30 epochs" in out and "target    test accuracy >= 0.97: met" in out
    assert "Epoch" not in err and "run 'demo'" not in out  # --quiet: result and files only


def test_demo_below_its_target_fails_with_exit_code_1(tmp_path, capsys):
    code = main(["demo", "--epochs", "1", "--target", "0.999", "--out", str(tmp_path), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "target    test accuracy >= 0.999: MISSED" in out
    assert re.search(r"missed its target: test accuracy 0\.\d{4} < 0\.999\. Train longer", err)
    one_line_error(err)
    assert (tmp_path / "demo" / "model.safetensors").is_file()  # the run is still saved
    report = (tmp_path / "demo" / "report.html").read_text()
    assert re.search(r"target missed: accuracy 0\.\d+ \(target &gt;= 0\.999\)", report)


def test_examples_digits_toml_is_the_demo():
    from_file = load_config(EXAMPLES / "digits.toml")
    built_in = validate_config(json.loads(json.dumps(DEMO_CONFIG)))
    assert {**from_file, "name": "demo"} == built_in


def test_a_saved_config_reruns_the_same_run(tmp_path, capsys):
    main(["demo", "--epochs", "2", "--target", "0", "--out", str(tmp_path), "--quiet"])
    first = capsys.readouterr().out
    saved = tmp_path / "demo" / "config.json"
    assert main(["train", str(saved), "--out", str(tmp_path), "--name", "again", "--quiet"]) == 0
    second = capsys.readouterr().out
    assert first.splitlines()[0] == second.splitlines()[0]  # same seed, same test results
    assert json.loads((tmp_path / "again" / "config.json").read_text())["name"] == "again"


# ---------------------------------------------------------------------------- train
def test_train_spiral_example_reaches_its_target(tmp_path, capsys):
    assert main(["train", str(EXAMPLES / "spiral.toml"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 -> 16 -> 16 -> 2" in out and "Linear(init=xavier) + Tanh" in out
    assert _accuracy(out) >= 0.95
    assert (tmp_path / "spiral" / "model.safetensors").is_file()


def test_train_epochs_override_and_exit_code_1_on_a_missed_target(tmp_path, capsys):
    argv = ["train", str(EXAMPLES / "spiral.toml"), "--epochs", "2", "--out", str(tmp_path)]
    code = main([*argv, "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1 and "2 of 2 epochs" in out and "MISSED" in out
    one_line_error(err)


def test_train_diabetes_regression_example(tmp_path, capsys):
    path = str(EXAMPLES / "diabetes_regression.toml")
    assert main(["train", path, "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"test mae \d+\.\d+, test r2 0\.\d{4}, test loss \d+\.\d", out)
    assert float(re.search(r"test r2 (\d\.\d+)", out).group(1)) >= 0.3
    assert "(early stopping)" in out and "(its weights kept)" in out
    arrays, meta = load_arrays(tmp_path / "diabetes_regression" / "model.safetensors")
    assert meta["task"] == "regression" and meta["classes"] is None
    assert arrays["3.weight"].shape == (1, 64)


def test_train_a_csv_with_text_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2)) + np.repeat([[2.0, 0.0], [-2.0, 0.0]], 40, axis=0)
    rows = [f"{a:.3f},{b:.3f},{'cat' if i < 40 else 'dog'}" for i, (a, b) in enumerate(x)]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pets.csv").write_text("weight,height,kind\n" + "\n".join(rows) + "\n")
    config = tmp_path / "pets.toml"
    config.write_text(
        '[data]\nsource = "csv"\npath = "data/pets.csv"\ntarget = "kind"\n'
        "[model]\nhidden = [8]\n[training]\nepochs = 5\n"
    )
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    _, meta = load_arrays(tmp_path / "runs" / "pets" / "model.safetensors")
    assert meta["classes"] == ["cat", "dog"] and meta["architecture"]["in_features"] == 2
    saved = json.loads((tmp_path / "runs" / "pets" / "config.json").read_text())
    assert Path(saved["data"]["path"]) == (tmp_path / "data" / "pets.csv").resolve()


# ---------------------------------------------------------------------------- mistakes
BAD_CONFIGS = {
    "unknown section": (
        '[data]\nsource = "digits"\n[trainig]\nepochs = 3\n',
        r"unknown section \[trainig\]: a section must be a str among \{'data', 'model', "
        r"'target', 'training'\}\. Got 'trainig' instead\. Did you mean 'training'\?",
    ),
    "unknown top-level key": (
        'seed = 1\n[data]\nsource = "digits"\n',
        r"unknown top-level key 'seed': a top-level key must be a str among \{'data', "
        r"'description', 'model', 'name', 'target', 'training'\}\. Got 'seed' instead\.",
    ),
    "unknown key": (
        '[data]\nsource = "digits"\n[training]\nepoch = 3\n',
        r"unknown key 'epoch' in \[training\]: a key of \[training\] must be a str among "
        r"\{'batch_size', .*'epochs', .*\}\. Got 'epoch' instead\. Did you mean 'epochs'\?",
    ),
    "bad value type": (
        '[data]\nsource = "digits"\n[training]\nepochs = "3"\n',
        r"\[training\] epochs must be an integer\. Got '3' \(a string\) instead\.",
    ),
    "bool is not a number": (
        '[data]\nsource = "digits"\n[model]\ndropout = true\n',
        r"\[model\] dropout must be a number\. Got True \(a boolean\) instead\.",
    ),
    "value out of range": (
        '[data]\nsource = "digits"\n[training]\nlr = -0.1\n',
        r"\[training\] lr must be > 0\. Got lr = -0\.1\.",
    ),
    "section as a value": ('data = "digits"\n', r"\[data\] must be a section"),
    "missing source": (
        "[data]\nval_size = 0.2\n",
        r"\[data\] source is required: .* Choose among \{'breast_cancer', .*'xor'\}\.",
    ),
    "unknown data source": (
        '[data]\nsource = "mnsit"\n',
        r"The 'source' key of \[data\] must be a str among \{'breast_cancer', 'circles', "
        r"'compositional', 'csv', "
        r"'diabetes', 'digits', .*\}\. Got 'mnsit' instead\. Did you mean 'mnist'\?",
    ),
    "key for another source": (
        '[data]\nsource = "digits"\nnoise = 0.1\n',
        r"\[data\] noise applies only to source = 'xor' \| .*; source is 'digits'\. Remove noise\.",
    ),
    "csv without a path": ('[data]\nsource = "csv"\n', r"source = 'csv' needs path = the CSV"),
    "split leaves nothing": (
        '[data]\nsource = "iris"\nval_size = 0.5\ntest_size = 0.5\n',
        r"val_size \+ test_size must be below 1",
    ),
    "unknown optimizer": (
        '[data]\nsource = "digits"\n[training]\noptimizer = "adamm"\n',
        r"The 'optimizer' key of \[training\] must be a str among \{'adagrad', 'adam', 'adamw', "
        r"'rmsprop', 'sgd'\}\. Got 'adamm' instead\. Did you mean 'adam'\?",
    ),
    "momentum with adam": (
        '[data]\nsource = "digits"\n[training]\nmomentum = 0.9\n',
        r"momentum applies to optimizer = 'sgd' or 'rmsprop' only; optimizer is 'adam'",
    ),
    "unknown activation": (
        '[data]\nsource = "digits"\n[model]\nactivation = "rlu"\n',
        r"The 'activation' key of \[model\] must be a str among \{.*'relu'.*\}\. Got 'rlu'",
    ),
    "unknown loss": (
        '[data]\nsource = "digits"\n[training]\nloss = "hinge"\n',
        r"The 'loss' key of \[training\] must be a str among \{.*'cross_entropy'.*\}\. Got 'hinge'",
    ),
    "loss against task": (
        '[data]\nsource = "digits"\n[model]\ntask = "classification"\n[training]\nloss = "mse"\n',
        r"loss = 'mse' does not fit task = 'classification'\. Use cross_entropy",
    ),
    "unknown metric": (
        '[data]\nsource = "digits"\n[training]\nmetrics = ["accuracy", "f1"]\n',
        r"Each entry of the 'metrics' key of \[training\] must be a str among \{.*\}\. Got 'f1'",
    ),
    "unknown schedule": (
        '[data]\nsource = "digits"\n[training]\nlr_schedule = { name = "linear" }\n',
        r"The 'name' key of \[training\.lr_schedule\] must be a str among \{'cosine', "
        r"'exponential', 'multistep', 'plateau', 'step'\}\. Got 'linear' instead\.",
    ),
    "schedule without its required key": (
        '[data]\nsource = "digits"\n[training]\nlr_schedule = { name = "step" }\n',
        r"\[training\.lr_schedule\] name = 'step' needs step_size\.",
    ),
    "unknown schedule key": (
        '[data]\nsource = "digits"\n[training.lr_schedule]\nname = "step"\nstep = 3\n',
        r"unknown key 'step' in \[training\.lr_schedule\] \(name = 'step'\): .*\{'gamma', "
        r"'step_size'\}\. Got 'step' instead\. Did you mean 'step_size'\?",
    ),
    "early stopping without validation": (
        '[data]\nsource = "iris"\nval_size = 0.0\n[training]\nearly_stopping = { patience = 3 }\n',
        r"monitors 'val_loss', but \[data\] val_size = 0 leaves no validation set",
    ),
    "unknown target": (
        '[data]\nsource = "digits"\n[target]\nf1 = 0.9\n',
        r"unknown key 'f1' in \[target\]: a target must be a str among \{'accuracy', 'loss', "
        r"'mae', 'r2', 'rmse', 'top5'\}",
    ),
    "TOML syntax error": (
        '[data]\nsource = "digits"\n[training]\nepochs = \n',
        r"bad\.toml: not valid TOML: .*\(at line 4, column \d+\)",
    ),
    # found once the data is loaded
    "metric for the other task": (
        '[data]\nsource = "iris"\n[training]\nmetrics = ["r2"]\n',
        r"\[training\] metrics has 'r2', which does not apply to classification\. Use accuracy",
    ),
    "missing data file": (
        '[data]\nsource = "csv"\npath = "nowhere.csv"\n',
        r"\[data\] source = 'csv': '.*nowhere\.csv' does not exist",
    ),
}


@pytest.mark.parametrize("text, message", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_config_mistakes_exit_2_with_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["train", str(path), "--out", str(tmp_path)]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert re.search(message, err), err
    assert err.startswith(f"sinapsi: error: {path}: ")
    assert not (tmp_path / "bad").exists()


def test_missing_config_file(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nothere.toml")]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert re.search(r"config file '.*nothere\.toml' does not exist\. Check the path\.", err)


def test_validate_config_raises_config_error():
    with pytest.raises(ConfigError, match=r"^<config>: \[training\] epochs must be >= 1"):
        validate_config({"data": {"source": "iris"}, "training": {"epochs": 0}})


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fly"], r"invalid choice: 'fly'"),
        (["demo", "--epochs", "0"], r"argument --epochs: must be >= 1, got 0"),
        (["demo", "--target", "1.5"], r"argument --target: must be a number in \[0, 1\]"),
        (["train"], r"the following arguments are required: CONFIG\.toml"),
    ],
)
def test_bad_command_lines_exit_2_with_usage(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_python_m_sinapsi_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "sinapsi", "--help"], capture_output=True, text=True, check=True
    )
    assert re.search(r"demo +train a deep network", result.stdout)
    assert re.search(r"train +train what a TOML file describes", result.stdout)
