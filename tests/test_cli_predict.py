"""A model saved by the command line carries its preprocessing (issue 14.4): ``sn.load`` then
``predict_classes`` on raw data reproduces the run; ``sinapsi predict`` applies a saved model to
a CSV or .npy file."""

import json
import re

import numpy as np
import pytest

import sinapsi as sn
from cli_checks import one_line_error
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
    model = sn.load(folder / "model.safetensors")
    assert isinstance(model[0], sn.nn.Normalization)
    meta = load_checkpoint(folder / "model.safetensors").metadata
    assert meta["kind"] == "sinapsi.cli.mlp" and meta["standardizer"] is None
    x_test, y_test = _raw_split(cfg).test
    assert x_test.max() > 10  # raw pixels 0..16, not standardized
    accuracy = float((sn.predict_classes(model, x_test) == y_test).mean())
    assert accuracy == pytest.approx(meta["test"]["accuracy"], abs=1.5 / len(y_test))
    assert accuracy > 0.9


# ---------------------------------------------------------------------------- sinapsi predict
def _predict(capsys, *argv):
    code = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err



@pytest.fixture(scope="module")
def digits_test(digits_run):
    folder, cfg = digits_run
    x_test, y_test = _raw_split(cfg).test
    return folder / "model.safetensors", x_test, y_test


def test_predict_a_headerless_csv_of_raw_digits(digits_test, tmp_path, capsys):
    model_path, x, y = digits_test
    data = tmp_path / "digits.csv"
    np.savetxt(data, x, fmt="%g", delimiter=",")
    code, out, err = _predict(capsys, model_path, data)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "prediction" and len(lines) == len(x) + 1
    expected = sn.predict_classes(sn.load(model_path), x)
    assert [int(v) for v in lines[1:]] == expected.tolist()


def test_predict_a_npy_file_with_probabilities_to_a_file(digits_test, tmp_path, capsys):
    model_path, x, _ = digits_test
    np.save(tmp_path / "x.npy", x)
    out_file = tmp_path / "pred" / "p.csv"
    code, out, _ = _predict(capsys, model_path, tmp_path / "x.npy", "--proba", "--out", out_file)
    assert code == 0 and f"saved     {out_file}  ({len(x)} predictions)" in out
    rows = [line.split(",") for line in out_file.read_text().splitlines()]
    assert rows[0] == ["prediction", *map(str, range(10))]
    proba = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    assert [int(r[0]) for r in rows[1:]] == proba.argmax(axis=1).tolist()
    assert [p.name for p in out_file.parent.iterdir()] == ["p.csv"]  # no temporary file left


def test_predict_drops_the_target_column_and_names_the_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2)) * [1.0, 10.0] + np.repeat([[3.0, 50.0], [-3.0, 50.0]], 40, 0)
    kinds = ["cat"] * 40 + ["dog"] * 40
    lines = [f"{a:.3f},{b:.3f},{k}" for (a, b), k in zip(x, kinds)]
    (tmp_path / "pets.csv").write_text("weight,height,kind\n" + "\n".join(lines) + "\n")
    config = tmp_path / "pets.toml"
    config.write_text(
        '[data]\nsource = "csv"\npath = "pets.csv"\ntarget = "kind"\n'
        "[model]\nhidden = [8]\n[training]\nepochs = 30\nlr = 0.01\n"
    )
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    capsys.readouterr()
    model = tmp_path / "runs" / "pets" / "model.safetensors"
    meta = load_checkpoint(model).metadata
    assert meta["features"] == ["weight", "height"] and meta["target"] == "kind"
    # the training file itself: the target column is found by its header name
    code, out, _ = _predict(capsys, model, tmp_path / "pets.csv")
    predicted = out.splitlines()[1:]
    assert code == 0 and np.mean([p == k for p, k in zip(predicted, kinds)]) > 0.9
    # columns in another order, an extra column, no target: matched by name
    shuffled = tmp_path / "new.csv"
    shuffled.write_text("id,height,weight\n1,50,3.1\n2,52,-2.9\n")
    assert _predict(capsys, model, shuffled)[1] == "prediction\ncat\ndog\n"
    # no header: --target gives the column to leave out
    plain = tmp_path / "plain.csv"
    plain.write_text("dog,3.1,50\ncat,-2.9,52\n")
    assert _predict(capsys, model, plain, "--target", "0")[1] == "prediction\ncat\ndog\n"
    code, _, err = _predict(capsys, model, plain)
    assert code == 2
    assert re.search(
        r"DATA '.*plain\.csv' gives 3 features per row \(all its "
        r"columns\), but the model takes 2\. Pass --target COLUMN",
        one_line_error(err),
    )


def test_predict_a_regression(tmp_path, capsys):
    config = tmp_path / "reg.toml"
    config.write_text(
        '[data]\nsource = "gaussian_regression"\nn_samples = 200\n'
        "[model]\nhidden = [8]\n[training]\nepochs = 2\n"
    )
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    capsys.readouterr()
    model_path = tmp_path / "runs" / "reg" / "model.safetensors"
    x = np.array([[0.0, 1.0], [2.0, -3.0]], dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    code, out, _ = _predict(capsys, model_path, tmp_path / "x.npy")
    values = [float(v) for v in out.splitlines()[1:]]
    np.testing.assert_allclose(values, sn.predict(sn.load(model_path), x).ravel(), rtol=1e-5)
    code, _, err = _predict(capsys, model_path, tmp_path / "x.npy", "--proba")
    assert code == 2 and "--proba needs a classifier" in one_line_error(err)


def test_an_old_model_with_its_scaling_in_metadata_still_predicts_right(
    digits_test, tmp_path, capsys
):
    model_path, x, _ = digits_test
    checkpoint = load_checkpoint(model_path)
    norm, *network = list(checkpoint.model)
    meta = dict(checkpoint.metadata)
    meta["standardizer"] = {"mean": norm.mean.tolist(), "scale": norm.scale.tolist()}
    del meta["preprocessing"]
    old = tmp_path / "old.npz"
    sn.save(sn.nn.Sequential(*network), old, metadata=meta)  # the layout before issue 14.4
    np.save(tmp_path / "x.npy", x)
    new_out = _predict(capsys, model_path, tmp_path / "x.npy")[1]
    assert _predict(capsys, old, tmp_path / "x.npy")[1] == new_out


@pytest.mark.parametrize(
    "make, args, message",
    [
        (None, ["nothere.csv"], r"DATA '.*nothere\.csv' does not exist"),
        ("dir", [], r"DATA '.*' is a folder, not a file"),
        ("", [], r"DATA '.*' is empty"),
        ("a,b\n", [], r"has a header row but no samples"),
        ("1,2\n1,2,3\n", [], r"row 2 has 3 columns, but row 1 has 2"),
        ("1," * 63 + "x\n", [], r"non-numeric feature value 'x' at row 1, column 63"),
        ("1," * 63 + "nan\n", [], r"feature value 'nan' at row 1, column 63 .*not a finite"),
        ("1,2,3\n", [], r"gives 3 features per row \(all its columns\), but the model takes 64\."),
        ("1,2,3\n", ["--target", "7"], r"--target '7': .*out of range for a file with 3"),
        ("1,2,3\n", ["--target", "y"], r"--target 'y': .*is a column name, but the file has no"),
        ("\ufeff" + "1," * 63 + "1\n", [], None),  # a BOM is fine
        (b"\xff\xfe\x00", [], r"is not a UTF-8 text file"),
    ],
    ids=[
        "missing", "folder", "empty", "only header", "ragged", "string", "nan", "too few",
        "target out of range", "target name without header", "bom", "binary",
    ],
)  # fmt: skip
def test_predict_data_mistakes_are_one_line(digits_test, tmp_path, capsys, make, args, message):
    model_path = digits_test[0]
    data = tmp_path / "data.csv"
    if make == "dir":
        data.mkdir()
    elif isinstance(make, bytes):
        data.write_bytes(make)
    elif make is not None:
        data.write_text(make, encoding="utf-8")
    else:
        data = tmp_path / args.pop(0)
    code, out, err = _predict(capsys, model_path, data, *args)
    if message is None:
        assert code == 0 and len(out.splitlines()) == 2
        return
    assert code == 2
    assert re.search(message, one_line_error(err)), err


@pytest.mark.parametrize(
    "make, message",
    [
        (None, r"MODEL '.*model\.safetensors' does not exist"),
        ("dir", r"MODEL '.*' is a folder, not a file"),
        ("text", r"MODEL '.*model\.safetensors': "),
    ],
)
def test_predict_model_mistakes_are_one_line(tmp_path, capsys, make, message):
    model = tmp_path / "model.safetensors"
    if make == "dir":
        model.mkdir()
    elif make == "text":
        model.write_text("not a model")
    np.save(tmp_path / "x.npy", np.zeros((2, 3)))
    code, _, err = _predict(capsys, model, tmp_path / "x.npy")
    assert code == 2 and re.search(message, one_line_error(err)), err


def test_predict_out_a_folder_is_refused(digits_test, tmp_path, capsys):
    code, _, err = _predict(capsys, digits_test[0], tmp_path / "x.npy", "--out", tmp_path)
    assert code == 2 and re.search(r"--out '.*' is a folder; give a file name", err)


def test_predict_reads_a_tab_separated_file(digits_test, tmp_path, capsys):
    model_path, x, _ = digits_test
    np.savetxt(tmp_path / "x.tsv", x[:3], fmt="%g", delimiter="\t")
    code, out, _ = _predict(capsys, model_path, tmp_path / "x.tsv", "--delimiter", "\\t")
    assert code == 0 and len(out.splitlines()) == 4


def test_predict_data_with_a_field_over_the_csv_limit(digits_test, tmp_path, capsys):
    (tmp_path / "x.csv").write_text("x" * 200_000 + "\n")
    code, _, err = _predict(capsys, digits_test[0], tmp_path / "x.csv")
    assert code == 2 and re.search(r"DATA '.*x\.csv': .*cannot read row 1: field larger", err)


@pytest.mark.parametrize(
    "standardizer", [{"mean": [0.0], "scale": [1.0]}, {"mean": [0.0] * 64}, {"mean": "x"}]
)
def test_a_damaged_metadata_standardizer_is_one_line(digits_test, tmp_path, capsys, standardizer):
    model_path, x, _ = digits_test
    checkpoint = load_checkpoint(model_path)
    meta = {**checkpoint.metadata, "standardizer": standardizer}
    sn.save(sn.nn.Sequential(*list(checkpoint.model)[1:]), tmp_path / "old.npz", metadata=meta)
    np.save(tmp_path / "x.npy", x[:2])
    code, _, err = _predict(capsys, tmp_path / "old.npz", tmp_path / "x.npy")
    assert code == 2 and "metadata 'standardizer' is not a mean and a positive scale" in err


def test_classes_that_do_not_match_the_outputs_fall_back_to_indices(digits_test, tmp_path, capsys):
    model_path, x, _ = digits_test
    checkpoint = load_checkpoint(model_path)
    meta = {**checkpoint.metadata, "classes": ["a", "b"]}
    sn.save(checkpoint.model, tmp_path / "m.npz", metadata=meta)
    np.save(tmp_path / "x.npy", x[:2])
    code, out, _ = _predict(capsys, tmp_path / "m.npz", tmp_path / "x.npy")
    assert code == 0 and all(v.isdigit() for v in out.splitlines()[1:])


def _plain_model(tmp_path):
    """A classifier saved with sn.save (no task in its metadata) and three rows for it."""
    x = np.random.default_rng(0).standard_normal((40, 3))
    model = sn.nn.Sequential(sn.nn.Linear(3, 4, rng=0), sn.nn.ReLU(), sn.nn.Linear(4, 2, rng=1))
    sn.fit(model, x, (x[:, 0] > 0).astype(np.int64), epochs=2, verbose=0)
    sn.save(model, tmp_path / "plain.npz")
    np.save(tmp_path / "x.npy", x[:3])
    return model, x[:3], str(tmp_path / "plain.npz"), str(tmp_path / "x.npy")


def test_a_model_without_a_recorded_task_says_it_prints_raw_outputs(tmp_path, capsys):
    model, x, path, data = _plain_model(tmp_path)
    assert main(["predict", path, data]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "prediction_0,prediction_1"
    assert re.fullmatch(r"sinapsi: note: MODEL .* records no task .* --task regression\.\n", err)


def test_task_classification_gives_classes_and_probabilities(tmp_path, capsys):
    model, x, path, data = _plain_model(tmp_path)
    assert main(["predict", path, data, "--task", "classification", "--proba"]) == 0
    out, err = capsys.readouterr()
    rows = [line.split(",") for line in out.splitlines()]
    assert rows[0] == ["prediction", "0", "1"] and err == ""
    assert [int(r[0]) for r in rows[1:]] == sn.predict_classes(model, x).tolist()
    np.testing.assert_allclose(
        np.array(rows[1:], dtype=float)[:, 1:], sn.predict_proba(model, x), rtol=1e-5
    )


def test_a_task_that_contradicts_the_run_is_refused(digits_run, tmp_path, capsys):
    folder, _ = digits_run
    np.save(tmp_path / "d.npy", np.zeros((2, 64)))
    code = main(["predict", str(folder / "model.safetensors"), str(tmp_path / "d.npy"), "--task",
                 "regression"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"sinapsi: error: --task regression contradicts MODEL .* classification "
                        r"model\. Leave --task out\.\n", err)  # fmt: skip
