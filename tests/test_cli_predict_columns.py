"""``sinapsi predict`` matches a headed CSV's columns to the training file's by name, as
scikit-learn does with feature names: a header that lacks them is an error, never a silent
positional guess, and ``--target`` does not turn name matching off."""


import pytest

from cli_checks import one_line_error
from sinapsi.cli import main


@pytest.fixture(scope="module")
def pets_model(tmp_path_factory):
    """A classifier trained on weight,height -> kind: cats are light, dogs heavy."""
    folder = tmp_path_factory.mktemp("pets")
    rows = [f"{3 + i % 3},{25 + i % 5},cat" for i in range(30)]
    rows += [f"{30 + i % 3},{60 + i % 5},dog" for i in range(30)]
    (folder / "pets.csv").write_text("weight,height,kind\n" + "\n".join(rows) + "\n")
    config = folder / "pets.toml"
    config.write_text(
        '[data]\nsource = "csv"\npath = "pets.csv"\ntarget = "kind"\n'
        "[model]\nhidden = [8]\n[training]\nepochs = 40\nlr = 0.05\n"
    )
    assert main(["train", str(config), "--out", str(folder / "runs"), "--quiet"]) == 0
    return folder / "runs" / "pets" / "model.safetensors"


def _predict(capsys, *argv):
    capsys.readouterr()
    code = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_header_without_the_training_columns_is_refused(pets_model, tmp_path, capsys):
    # same number of columns, other names: positional use would predict from the wrong columns
    other = tmp_path / "other.csv"
    other.write_text("length,age\n3,25\n30,60\n")
    code, out, err = _predict(capsys, pets_model, other)
    assert code == 2 and out == ""
    message = one_line_error(err)
    assert "'weight'" in message and "'height'" in message and "length" in message
    assert "remove the header" in message


def test_target_does_not_turn_off_matching_by_name(pets_model, tmp_path, capsys):
    ordered = tmp_path / "ordered.csv"
    ordered.write_text("weight,height\n3,25\n30,60\n10,40\n")
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("kind,height,weight\ncat,25,3\ndog,60,30\ncat,40,10\n")
    expected = _predict(capsys, pets_model, ordered, "--proba")[1]
    code, out, err = _predict(capsys, pets_model, shuffled, "--target", "kind", "--proba")
    assert (code, out) == (0, expected), err
    code, _, err = _predict(capsys, pets_model, shuffled, "--target", "weight")
    assert code == 2 and "'weight'" in one_line_error(err)


def test_an_empty_npy_is_one_line(pets_model, tmp_path, capsys):
    import numpy as np

    np.save(tmp_path / "empty.npy", np.zeros((0, 2), dtype=np.float32))
    code, out, err = _predict(capsys, pets_model, tmp_path / "empty.npy")
    assert code == 2 and out == ""
    assert "no samples" in one_line_error(err)


class _ClosedPipe:
    """stdout whose reader has left, as under ``sinapsi predict ... | head``."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_predict_piped_into_head_stops_quietly(pets_model, tmp_path, monkeypatch, capsys):
    """The reader of the output leaves early: exit 141 (a shell's code for SIGPIPE), quietly,
    as cat and head do, instead of a BrokenPipeError traceback."""
    data = tmp_path / "new.csv"
    data.write_text("weight,height\n3,25\n30,60\n")
    capsys.readouterr()
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["predict", str(pets_model), str(data)]) == 141
    assert capsys.readouterr().err == ""


def test_a_data_header_naming_a_training_column_twice_is_refused(pets_model, tmp_path, capsys):
    data = tmp_path / "twice.csv"
    data.write_text("weight,height,weight\n3,25,30\n")
    code, out, err = _predict(capsys, pets_model, data)
    assert code == 2 and out == ""
    assert "'weight' twice" in one_line_error(err)


def test_model_and_data_swapped_says_so(pets_model, tmp_path, capsys):
    data = tmp_path / "new.csv"
    data.write_text("weight,height\n3,25\n")
    code, out, err = _predict(capsys, data, pets_model)
    assert code == 2 and "swapped" in one_line_error(err) and "sinapsi predict MODEL DATA" in err


def test_predict_flattens_images_as_training_does(tmp_path, capsys):
    """digits/mnist runs flatten each image into its features; a .npy of images (n, 8, 8) is
    flattened the same way (it was refused as not (n_samples, n_features))."""
    import numpy as np

    config = tmp_path / "digits.toml"
    config.write_text('[data]\nsource = "digits"\n[model]\nhidden = [16]\n[training]\nepochs = 2\n')
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    from sinapsi.data.datasets import load_digits

    X, _ = load_digits()
    np.save(tmp_path / "flat.npy", X[:5])
    np.save(tmp_path / "images.npy", X[:5].reshape(5, 8, 8))
    model = tmp_path / "runs" / "digits" / "model.safetensors"
    flat = _predict(capsys, model, tmp_path / "flat.npy")
    images = _predict(capsys, model, tmp_path / "images.npy")
    assert images == flat and flat[0] == 0
