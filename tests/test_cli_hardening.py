"""The command line against hostile input (issue 14): every mistake is one line on stderr with
exit 2, and nothing is written half-way; runs stay inside --out and never overwrite each other."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

from cli_checks import one_line_error
from sinapsi.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICK = "[model]\nhidden = [4]\n[training]\nepochs = 1\n"



def _train(tmp_path, capsys, text, *args, name="run.toml"):
    """Run `sinapsi train` on a config holding ``text``; return (code, out, err)."""
    config = tmp_path / name
    config.write_text(text)
    code = main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _fails(tmp_path, capsys, text, message, *args):
    code, out, err = _train(tmp_path, capsys, text, *args)
    assert code == 2, (out, err)
    assert re.search(message, one_line_error(err)), err
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir()), list(runs.iterdir())  # nothing written


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---------------------------------------------------------------------------- 14.8 run names
BAD_NAMES = [
    "../../pwned_run", "{tmp}/pwned_abs", "", ".", "..", "a/b", "a\\\\b", "nul\\u0000byte", " ",
    "c:x", "run.", "CON", "nul.txt", "com1", "x" * 201,
]  # fmt: skip


@pytest.mark.parametrize("name", BAD_NAMES)
def test_run_names_are_single_path_components(tmp_path, capsys, name):
    name = name.replace("{tmp}", tmp_path.as_posix())
    text = f'name = "{name}"\n[data]\nsource = "iris"\n' + QUICK
    _fails(tmp_path, capsys, text, r"run\.toml: the run name .* must be a single folder name")
    assert not (tmp_path.parent / "pwned_run").exists() and not (tmp_path / "pwned_abs").exists()


@pytest.mark.parametrize("name", ["../escape", "/abs", "", "..", "a\x00b"])
def test_the_name_option_is_checked_the_same_way(tmp_path, capsys, name):
    _fails(
        tmp_path,
        capsys,
        '[data]\nsource = "iris"\n' + QUICK,
        r"--name: the run name .* must be a single folder name",
        "--name",
        name,
    )
    assert not (tmp_path / "escape").exists()


# ---------------------------------------------------------------------------- 14.10 targets
@pytest.mark.parametrize(
    "target, message",
    [
        ("accuracy = nan", r"\[target\] accuracy must be a finite number in \[0, 1\]\. Got nan"),
        ("accuracy = 1.5", r"\[target\] accuracy must be a finite number in \[0, 1\]\. Got 1\.5"),
        ("top5 = -0.1", r"\[target\] top5 must be a finite number in \[0, 1\]"),
        ("r2 = 2.0", r"\[target\] r2 must be a finite number <= 1"),
        ("loss = -1", r"\[target\] loss must be a finite number >= 0\. Got -1"),
        ("mae = inf", r"\[target\] mae must be a finite number >= 0\. Got inf"),
        ("rmse = nan", r"\[target\] rmse must be a finite number >= 0"),
    ],
)
def test_targets_out_of_bounds_are_refused(tmp_path, capsys, target, message):
    _fails(tmp_path, capsys, f'[data]\nsource = "iris"\n{QUICK}[target]\n{target}\n', message)


@pytest.mark.parametrize(
    "key, value",
    [
        ("[training]\nlr", "inf"),
        ("[training]\nweight_decay", "inf"),
        ("[training]\nclip_grad_norm", "inf"),
        ("[training]\nlr", "nan"),
        ("[training.early_stopping]\nmin_delta", "nan"),
        ("[training.lr_schedule]\nname = 'cosine'\neta_min", "nan"),
        ("[training.lr_schedule]\nname = 'exponential'\ngamma", "inf"),
    ],
)
def test_non_finite_numbers_are_refused(tmp_path, capsys, key, value):
    text = f'[data]\nsource = "iris"\n[model]\nhidden = [4]\n{key} = {value}\n'
    _fails(tmp_path, capsys, text, rf"must be a finite number\. Got \w+ = {value}\.")


# ---------------------------------------------------------------------------- 14.10 CSV data
def _csv(tmp_path, rows, header="a,b,y"):
    path = tmp_path / "data.csv"
    path.write_text("\n".join(([header] if header else []) + rows) + "\n")
    return '[data]\nsource = "csv"\npath = "data.csv"\n' + QUICK


def _rows(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [f"{a:.3f},{b:.3f},{i % 2}" for i, (a, b) in enumerate(rng.normal(size=(n, 2)))]


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "NaN"])
def test_a_csv_with_nan_or_inf_names_the_file_row_and_column(tmp_path, capsys, bad):
    rows = _rows()
    rows[20] = f"1.0,{bad},1"
    text = _csv(tmp_path, rows)
    message = rf"data\.csv': feature value '{bad}' at row 22, column 'b' \(index 1\) is not a"
    _fails(tmp_path, capsys, text, message)


def test_a_csv_with_a_nan_target_names_its_row(tmp_path, capsys):
    rows = [f"{i}.5,{i},{i * 0.5}" for i in range(40)]
    rows[5] = "1,2,nan"
    text = _csv(tmp_path, rows)
    message = r"data\.csv': target value 'nan' at row 7, column 'y' \(index 2\) is not a finite"
    _fails(tmp_path, capsys, text, message)


@pytest.mark.parametrize("n_rows", [1, 2, 3, 5])
def test_a_csv_too_small_to_split_is_refused_up_front(tmp_path, capsys, n_rows):
    text = _csv(tmp_path, _rows(n_rows))
    _fails(tmp_path, capsys, text, r"too few|single class")


# ---------------------------------------------------------------------------- 14.10 --out
def test_out_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "runs").write_text("not a folder")
    code, out, err = _train(tmp_path, capsys, '[data]\nsource = "iris"\n' + QUICK)
    assert code == 2 and "Epoch" not in out
    assert re.search(r"--out '.*runs' is a file, not a folder", one_line_error(err))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions")
def test_out_not_writable_is_refused_before_training(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        config = tmp_path / "run.toml"
        config.write_text('[data]\nsource = "iris"\n' + QUICK)
        code = main(["train", str(config), "--out", str(locked / "runs"), "--quiet"])
        out, err = capsys.readouterr()
    finally:
        locked.chmod(0o700)
    assert code == 2 and "result" not in out
    assert re.search(r"cannot write the run into --out '.*runs'", one_line_error(err))


# ---------------------------------------------------------------------------- 14.10 memory
@pytest.mark.parametrize(
    "text",
    [
        '[data]\nsource = "iris"\n[model]\nhidden = [100000, 100000]\n',
        '[data]\nsource = "iris"\n[model]\nhidden = [1000000000000000000]\n',
        '[data]\nsource = "spiral"\nn_samples = 100000000000\n',
    ],
    ids=["hidden 1e5 x 1e5", "hidden 1e18", "n_samples 1e11"],
)
def test_sizes_beyond_memory_are_refused_before_allocating(tmp_path, capsys, text):
    message = r"needs about [\d.,]+ [KMGTPE]?i?B of memory .*, more than the [\d.,]+ \w+ this"
    _fails(tmp_path, capsys, text, message)


# ---------------------------------------------------------------------------- 14.3 divergence
def test_a_diverging_run_is_an_error_and_saves_nothing(tmp_path, capsys):
    text = (
        '[data]\nsource = "iris"\n[model]\nhidden = [16]\n'
        '[training]\nepochs = 3\nlr = 1e9\noptimizer = "adam"\n'
    )
    _fails(tmp_path, capsys, text, r"run 'run' diverged: .*lr")


def test_a_nan_loss_is_an_error_and_saves_nothing(tmp_path, capsys):
    text = (
        '[data]\nsource = "iris"\n[model]\nhidden = [16]\n'
        '[training]\nepochs = 3\nlr = 1e9\noptimizer = "sgd"\n'
    )
    _fails(tmp_path, capsys, text, r"run 'run' diverged: .*loss became nan")


# ---------------------------------------------------------------------------- 14.17 no overwrite
def test_a_second_run_of_the_same_name_gets_its_own_folder(tmp_path, capsys):
    text = '[data]\nsource = "iris"\n' + QUICK
    assert _train(tmp_path, capsys, text)[0] == 0
    first = (tmp_path / "runs" / "run" / "model.safetensors").read_bytes()
    code, out, _ = _train(tmp_path, capsys, text, "--seed", "5")
    assert code == 0
    assert (tmp_path / "runs" / "run" / "model.safetensors").read_bytes() == first  # untouched
    assert f"saved     {tmp_path / 'runs' / 'run-2' / 'model.safetensors'}" in out
    assert (
        f"folder    {tmp_path / 'runs' / 'run'} holds an earlier run, kept: this one is run-2"
        in out
    )
    assert _train(tmp_path, capsys, text)[0] == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["run", "run-2", "run-3"]


def test_overwrite_replaces_the_run_folder(tmp_path, capsys):
    text = '[data]\nsource = "iris"\n' + QUICK
    assert _train(tmp_path, capsys, text)[0] == 0
    (tmp_path / "runs" / "run" / "stale.txt").write_text("old")
    assert _train(tmp_path, capsys, text, "--overwrite")[0] == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["run"]
    assert _files(tmp_path / "runs" / "run") == {
        "model.safetensors",
        "history.json",
        "config.json",
        "report.html",
    }


def test_interrupted_run_leaves_nothing(tmp_path, capsys, monkeypatch):
    import sinapsi.experiment as experiment

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, "_write_report", interrupt)
    code, out, err = _train(tmp_path, capsys, '[data]\nsource = "iris"\n' + QUICK)
    assert code == 130 and err == "sinapsi: interrupted\n"
    runs = tmp_path / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []


# ---------------------------------------------------------------------------- 14.17 examples
def test_the_documented_example_commands_succeed_in_order(tmp_path, capsys, monkeypatch):
    """examples/README.md's first shell block, run as written from the repository root, with
    runs/ and /tmp/runs moved under tmp_path."""
    import shlex

    monkeypatch.chdir(EXAMPLES.parent)
    block = re.search(r"```sh\n(.*?)```", (EXAMPLES / "README.md").read_text(), flags=re.S)
    commands = [shlex.split(line, comments=True) for line in block.group(1).splitlines()]
    assert len(commands) >= 4 and all(c[0] == "sinapsi" for c in commands)
    runs = tmp_path / "runs"
    for command in commands:
        argv = [str(tmp_path / "other") if a == "/tmp/runs" else a for a in command[1:]]
        argv = [str(runs / a[5:]) if a.startswith("runs/") else a for a in argv]
        if argv[0] == "train" and "--out" not in argv:
            argv += ["--out", str(runs)]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, (command, err)
    assert sorted(p.name for p in runs.iterdir()) == ["spiral", "spiral-2"]  # not overwritten
    assert (tmp_path / "other" / "spiral-3" / "model.safetensors").is_file()
    assert out.startswith("prediction\n") and len(out.splitlines()) == 7


# ---------------------------------------------------------------------------- 14.13 BatchNorm
BN = '[data]\nsource = "iris"\n[model]\nhidden = [8]\nbatch_norm = true\n[training]\nepochs = 1\n'


def test_a_batch_norm_run_with_a_last_batch_of_one_trains(tmp_path, capsys):
    # iris: 105 of its 150 samples train; batches of 104 leave a last batch of 1
    code, out, err = _train(tmp_path, capsys, BN + "batch_size = 104\n")
    assert code == 0, err  # fit merges the lone sample into the previous batch


def test_a_batch_norm_run_with_batches_of_one_is_refused(tmp_path, capsys):
    message = r"\[training\] batch_size = 1 with \[model\] batch_norm = true: BatchNorm1d needs"
    _fails(tmp_path, capsys, BN + "batch_size = 1\n", message)


# ---------------------------------------------------------------------------- hunt
@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[training]\nepochs = 100000000000000000000000\n",
            r"\[training\] epochs must be <= 1000000\. Got epochs = 10{23}\.",
        ),
        (
            "[training]\nseed = 100000000000000000000000\n",
            r"\[training\] seed must be a 64-bit integer \(at most 9223372036854775807\)",
        ),
        (
            "[training]\nlr_schedule = { name = 'step', step_size = 100000000000000000000000 }\n",
            r"step_size must be a 64-bit integer",
        ),
        (
            "[training]\nlr_schedule = { name = 'multistep', milestones = [1, 1e23] }\n",
            r"milestones must be an array of integers",
        ),
        (
            "[training]\nlr_schedule = { name = 'multistep', milestones = [10000000000000000000000]"
            " }\n",
            r"milestones must hold 64-bit integers",
        ),
        ("[model]\nhidden = [10000000000000000000000]\n", r"\[model\] hidden must hold 64-bit"),
    ],
    ids=["epochs", "seed", "step_size", "float milestone", "huge milestone", "hidden 1e22"],
)
def test_huge_integers_are_refused(tmp_path, capsys, text, message):
    _fails(tmp_path, capsys, '[data]\nsource = "iris"\n' + text, message)


def test_a_batch_size_beyond_the_data_trains_on_whole_batches(tmp_path, capsys):
    text = '[data]\nsource = "iris"\n' + QUICK + "batch_size = 1000000000000\n"
    code, out, err = _train(tmp_path, capsys, text)
    assert code == 0, err


def test_a_binary_csv_is_one_line(tmp_path, capsys):
    (tmp_path / "data.csv").write_bytes(b"\xff\xfe\x00\x01garbage")
    text = '[data]\nsource = "csv"\npath = "data.csv"\n'
    _fails(tmp_path, capsys, text, r"source = 'csv': '.*data\.csv' is not a UTF-8 text file")


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM")
def test_a_terminated_run_leaves_nothing(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    config = tmp_path / "run.toml"
    config.write_text('[data]\nsource = "iris"\n[training]\nepochs = 1000000\n')
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sinapsi", "train", str(config), "--out", str(runs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:  # wait until it trains
        if line.startswith("Epoch 2/"):
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err.endswith("sinapsi: terminated\n"), err
    time.sleep(0.1)
    assert list(runs.iterdir()) == []


@pytest.mark.parametrize("source", ["csv", "mnist"])
def test_a_nul_byte_in_a_path_is_one_line(tmp_path, capsys, source):
    text = f'[data]\nsource = "{source}"\npath = "a\\u0000b"\n'
    _fails(tmp_path, capsys, text, r"\[data\] path must not contain a NUL character")


def test_a_nul_byte_in_out_is_one_line(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[data]\nsource = "iris"\n' + QUICK)
    assert main(["train", str(config), "--out", str(tmp_path / "a\x00b")]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert re.search(r"--out '.*a\\x00b' must not contain a NUL character", err), err


def test_a_bundled_set_without_scikit_learn_is_one_line(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    text = '[data]\nsource = "iris"\n' + QUICK
    _fails(tmp_path, capsys, text, r"source = 'iris': load_iris: .* pip install scikit-learn")


def test_a_csv_too_big_for_the_memory_is_refused_before_reading(tmp_path, capsys, monkeypatch):
    from sinapsi import _runs

    text = _csv(tmp_path, _rows(40))
    size = (tmp_path / "data.csv").stat().st_size
    monkeypatch.setattr(_runs, "physical_memory", lambda: 10 * size)  # 16 x the file needed
    message = r"needs about [\d.,]+ KiB of memory \(the CSV file read as text [\d.,]+ KiB\)"
    _fails(tmp_path, capsys, text, message)


def test_warnings_while_training_are_one_line_each_after_the_result(tmp_path, capsys, monkeypatch):
    import warnings

    import sinapsi

    original = sinapsi.fit

    def fit(*args, **kwargs):
        message = "fit: the run is diverging. Lower the learning rate."
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(sinapsi, "fit", fit)
    code, out, err = _train(tmp_path, capsys, '[data]\nsource = "iris"\n' + QUICK)
    assert code == 0 and "result" in out
    assert err == "sinapsi: warning: fit: the run is diverging. Lower the learning rate.\n"
