"""A model saved by the command line carries its preprocessing (issue 14.4): ``sn.load`` then
``predict_classes`` on raw data reproduces the run; ``sinapsi predict`` applies a saved model to
a CSV or .npy file."""

import json
import re

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import experiment
from sinapsi.cli import main
from sinapsi.config import validate_config
from sinapsi.io import load_checkpoint


def _raw_split(cfg):
    """The run's split of the raw (unstandardized) data: the same seed streams as run()."""
    raw = validate_config({**cfg, "data": {**cfg["data"], "standardize": False}})
    streams = np.random.SeedSequence(raw["training"]["seed"]).spawn(4)
    return experiment._prepare_data(raw, "<test>", [np.random.default_rng(s) for s in streams])


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A short `sinapsi demo` run: its folder and configuration."""
    out = tmp_path_factory.mktemp("runs")
    code = main(["demo", "--epochs", "3", "--target", "0", "--out", str(out), "--quiet"])
    assert code == 0
    cfg = json.loads((out / "demo" / "config.json").read_text())
    return out / "demo", cfg


def test_a_loaded_cli_model_reproduces_the_test_accuracy_on_raw_data(digits_run):
    folder, cfg = digits_run
    model = sn.load(folder / "model.npz")
    assert isinstance(model[0], sn.nn.Normalization)
    meta = load_checkpoint(folder / "model.npz").metadata
    assert meta["kind"] == "sinapsi.cli.mlp" and meta["standardizer"] is None
    x_test, y_test = _raw_split(cfg).test
    assert x_test.max() > 10  # raw pixels 0..16, not standardized
    accuracy = float((sn.predict_classes(model, x_test) == y_test).mean())
    assert accuracy == pytest.approx(meta["test"]["accuracy"], abs=1.5 / len(y_test))
    assert accuracy > 0.9
