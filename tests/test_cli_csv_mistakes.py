"""A newcomer's CSV mistakes on the command line: the message names the fix in the words of the
place it is made (TOML keys for ``sinapsi train``, options for ``sinapsi predict``), not
load_csv's Python arguments."""

import re

import pytest

from cli_checks import one_line_error
from sinapsi.cli import main


def _train(tmp_path, capsys, csv_text, data_keys=""):
    (tmp_path / "pets.csv").write_text(csv_text)
    config = tmp_path / "pets.toml"
    config.write_text(
        f'[data]\nsource = "csv"\npath = "pets.csv"\ntarget = "kind"\n{data_keys}'
        "[model]\nhidden = [4]\n[training]\nepochs = 2\n"
    )
    code = main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"])
    return code, capsys.readouterr().err


PETS = [("3", "25", "cat"), ("30", "60", "dog")] * 10


@pytest.mark.parametrize(
    "sep, toml", [(";", 'delimiter = ";"'), ("\t", 'delimiter = "\\t"')], ids=["semicolon", "tab"]
)
def test_train_names_the_delimiter_as_a_toml_key(tmp_path, capsys, sep, toml):
    text = "\n".join(sep.join(row) for row in [("weight", "height", "kind"), *PETS]) + "\n"
    code, err = _train(tmp_path, capsys, text)
    message = one_line_error(err)
    assert code == 2 and f"{toml} in [data]" in message and "load_csv" not in message
    assert _train(tmp_path, capsys, text, toml + "\n")[0] == 0  # the advice works as written


def test_train_names_header_as_a_toml_key(tmp_path, capsys):
    text = "weight,height,kind\n" + "\n".join(",".join(row) for row in PETS) + "\n"
    code, err = _train(tmp_path, capsys, text, "header = false\n")
    message = one_line_error(err)
    assert code == 2 and "header = true in [data]" in message and "header=True" not in message


def test_predict_names_the_delimiter_option(tmp_path, capsys):
    text = "weight,height,kind\n" + "\n".join(",".join(row) for row in PETS) + "\n"
    assert _train(tmp_path, capsys, text)[0] == 0
    data = tmp_path / "new.csv"
    data.write_text("weight;height\n3;25\n30;60\n")
    model = tmp_path / "runs" / "pets" / "model.safetensors"
    assert main(["predict", str(model), str(data)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "separated by ';'" in message and "--delimiter ';'" in message
    assert main(["predict", str(model), str(data), "--delimiter", ";"]) == 0
    semicolons = capsys.readouterr().out
    data.write_text("weight,height\n3,25\n30,60\n")
    assert main(["predict", str(model), str(data)]) == 0
    assert capsys.readouterr().out == semicolons


def test_predict_does_not_advise_an_option_it_lacks(tmp_path, capsys):
    text = "weight,height,kind\n" + "\n".join(",".join(row) for row in PETS) + "\n"
    assert _train(tmp_path, capsys, text)[0] == 0
    data = tmp_path / "new.csv"
    data.write_text("weight,2020\n3,25\n")  # a number in the header: read as data
    assert main(["predict", str(tmp_path / "runs" / "pets" / "model.safetensors"), str(data)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "non-numeric feature value 'weight'" in message and "header=True" not in message


def _house(tmp_path, capsys, price):
    """A regression CSV whose target holds whole numbers (prices), task left to "auto"."""
    rows = [f"{30 + i % 170},{1 + i % 6},{price(i)}" for i in range(300)]
    (tmp_path / "house.csv").write_text("size,rooms,price\n" + "\n".join(rows) + "\n")
    config = tmp_path / "house.toml"
    config.write_text(
        '[data]\nsource = "csv"\npath = "house.csv"\ntarget = "price"\n[training]\nepochs = 1\n'
    )
    code = main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"])
    return code, capsys.readouterr().err


def test_integer_prices_read_as_hundreds_of_classes_say_set_regression(tmp_path, capsys):
    code, err = _house(tmp_path, capsys, lambda i: 50_000 + 997 * i)  # every price distinct
    message = one_line_error(err)
    assert code == 2 and "300 distinct" in message and 'task = "regression"' in message


def test_integer_targets_with_few_rows_per_class_say_set_regression(tmp_path, capsys):
    code, err = _house(tmp_path, capsys, lambda i: 15 + (30 + i % 170) // 2)  # 85 values
    if code == 0:  # split fine: trained as classes, with a warning after the result
        assert re.search(r"sinapsi: warning: .*85 distinct .*task = \"regression\"", err), err
    else:  # a stratified split of ~3.5 rows per class left a set empty: the cause is named
        message = one_line_error(err)
        assert code == 2 and "85 classes in 300 rows" in message
        assert 'task = "regression"' in message


def test_train_given_a_csv_file_says_to_write_a_toml(tmp_path, capsys):
    data = tmp_path / "pets.csv"
    data.write_text("weight,height,kind\n3,25,cat\n30,60,dog\n")
    assert main(["train", str(data)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "a data file, not a configuration" in message and 'source = "csv"' in message
