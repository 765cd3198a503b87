"""sinapsi grid: expansion of a grid file, the runs and their files, resume, worker count."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from grid_checks import BASE, GRID
from sinapsi import grid
from sinapsi.cli import main
from sinapsi.config import ConfigError


def _write(tmp_path: Path, text: str, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_expand_cells_in_file_order_times_seeds(tmp_path: Path) -> None:
    g = grid.load_grid(_write(tmp_path, GRID))
    assert g.name == "tiny"
    assert g.keys == ["model.activation", "training.lr"]
    assert [c.values for c in g.cells] == [
        ("relu", 0.01), ("relu", 0.1), ("tanh", 0.01), ("tanh", 0.1)
    ]  # fmt: skip
    assert [c.id for c in g.cells] == ["c000", "c001", "c002", "c003"]
    runs = g.runs()
    assert len(runs) == 8
    assert [(r.cell.id, r.seed) for r in runs[:3]] == [("c000", 0), ("c000", 1), ("c001", 0)]
    cfg = runs[3].cfg
    assert cfg["model"]["activation"] == "relu" and cfg["training"]["lr"] == 0.1
    assert cfg["training"]["seed"] == 1 and cfg["name"] == "c001_seed1"
    assert runs[4].cfg["model"]["init"] == "xavier"  # "auto" resolved from the cell's tanh


@pytest.mark.parametrize(
    "table, match",
    [
        ('"model.activations" = ["relu"]', r"tiny\.toml: \[grid\] key 'model\.activations'.*"),
        ('"nosuch.lr" = [1]', r"tiny\.toml: \[grid\] key 'nosuch\.lr' .*dotted key"),
        ('"model.activation" = []', r"tiny\.toml: \[grid\] 'model\.activation' is an empty list"),
        ('"model.activation" = "relu"', r"tiny\.toml: \[grid\] 'model\.activation' must be a list"),
        ('"training.lr" = [0.1, "x"]', r"^tiny\.toml \[grid cell c001: training\.lr='x'\]: .*lr"),
        ("seeds = [0, -1]", r"tiny\.toml: \[grid\] seeds must be .*non-negative.*Got \[0, -1\]"),
        ("seeds = 3", r"tiny\.toml: \[grid\] seeds must be a list"),
        ('"training.seed" = [1, 2]', r"tiny\.toml: \[grid\] 'training\.seed' .*seeds = "),
        (
            '"model.activation" = ["relu", "nope"]',
            r"^tiny\.toml \[grid cell c001: model\.activation='nope'\]: .*activation",
        ),
        ('"training" = ["sgd"]', r"'training' names a whole section, so its values must be tab"),
        ('"training" = [{}]', r"'training' names a whole section"),
        ('"training" = [{seed = 3}]', r"a \"training\" table cannot set seed"),
        ('"training" = [{optimiser = "sgd"}]', r"^tiny\.toml \[grid cell c000: .*optimiser"),
        ('"training.early_stopping.patiense" = [2]', r"grid cell c000.*patiense"),
        ('"target.acuracy" = [0.9]', r"grid cell c000.*acuracy"),
        ('"training.epochs.x" = [1]', r"key 'training\.epochs\.x' is not a setting"),
        ("seeds = [0]", r"\[grid\] has no keys to vary"),
        ('"training.lr" = [0.1]\nbaseline = "c007"', r"baseline = 'c007' is not a cell: use.*c000"),
        ('"training.lr" = [0.1]\nbaseline = 3', r"baseline must be a cell id"),
        ('"training.lr" = [0.1]\nbaseline = {"model.hidden" = [4]}', r"'model\.hidden' is not a g"),
        ('"training.lr" = [0.1, 0.2]\nbaseline = {"training.lr" = 9.0}', r"matches no cell"),
        ('"description" = ["a"]', r"'description' cannot be a grid key"),
    ],
)
def test_bad_grid_files_give_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, match: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, BASE + "\n[grid]\n" + table + "\n")
    with pytest.raises(ConfigError, match=match) as info:
        grid.load_grid("tiny.toml")
    assert "\n" not in str(info.value)


def test_sections_baseline_and_unset_tables(tmp_path: Path) -> None:
    text = BASE + (
        '\n[grid]\n"training" = [{optimizer = "sgd", lr = 0.1}, {optimizer = "sgd", lr = 0.1, '
        'momentum = 0.9, dampening = 0.9}, {optimizer = "adam"}]\n'
        '"training.early_stopping.patience" = [1]\n"target.accuracy" = [0.5]\n'
        'baseline = {"training" = {optimizer = "adam"}}\nseeds = [4]\n'
    )
    g = grid.load_grid(_write(tmp_path, text))
    assert len(g.cells) == 3 and g.baseline == "c002"
    sgd, momentum, adam = (job.cfg["training"] for job in g.runs())
    assert (sgd["optimizer"], sgd["lr"], sgd["momentum"]) == ("sgd", 0.1, None)
    assert (momentum["momentum"], momentum["dampening"]) == (0.9, 0.9)
    assert adam["optimizer"] == "adam" and adam["lr"] is None  # the rest of the section stays
    for job in g.runs():
        assert job.cfg["training"]["epochs"] == 3 and job.cfg["training"]["seed"] == 4
        assert job.cfg["training"]["early_stopping"]["patience"] == 1  # set in an unset table
        assert job.cfg["target"] == {"accuracy": 0.5}
    assert grid.format_value(g.cells[1].values[0]) == (
        '{"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.9}'
    )
    assert grid.load_grid(_write(tmp_path, text.replace(
        'baseline = {"training" = {optimizer = "adam"}}\n', 'baseline = "c001"\n'
    ))).baseline == "c001"  # fmt: skip
    assert grid.load_grid(_write(tmp_path, text.replace(
        'baseline = {"training" = {optimizer = "adam"}}\n', ""
    ))).baseline == "c000"  # fmt: skip


def test_no_grid_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, BASE)
    with pytest.raises(ConfigError, match=r"tiny\.toml: no \[grid\] table.*sinapsi train"):
        grid.load_grid("tiny.toml")


def test_grid_runs_writes_files_resumes_and_ignores_worker_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["grid", str(path), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("seed") >= 8 and "ok" in printed
    folder = out / "tiny"
    rows = _rows(folder / "results.csv")
    assert [(r["cell"], r["seed"]) for r in rows] == [
        (f"c00{c}", str(s)) for c in range(4) for s in (0, 1)
    ]
    assert all(r["status"] == "ok" for r in rows), rows
    assert rows[2]["model.activation"] == "relu" and rows[2]["training.lr"] == "0.1"
    for r in rows:
        assert (folder / r["name"] / "model.safetensors").is_file()
        assert int(r["epochs"]) == 3 and float(r["seconds"]) > 0
        saved = json.loads((folder / r["name"] / "history.json").read_text(encoding="utf-8"))
        history = saved["history"]
        best = int(np.argmin(history["val_loss"]))
        assert int(r["best_epoch"]) == best + 1
        assert float(r["best_val_loss"]) == history["val_loss"][best] <= float(r["val_loss"])
        assert math.isfinite(float(r["train_loss"])) and math.isfinite(float(r["val_loss"]))
    cells = _rows(folder / "cells.csv")
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert all(f"c00{i}" in page for i in range(4)) and "<img" in page
    assert not any((folder / r["name"] / "report.html").exists() for r in rows)
    assert [c["cell"] for c in cells] == ["c000", "c001", "c002", "c003"]
    # summary: mean, std (ddof=1), 95% t interval of each test metric, per cell
    summary = _rows(folder / "summary.csv")
    assert len(summary) == 4
    for s in summary:
        acc = np.array([float(r["test_accuracy"]) for r in rows if r["cell"] == s["cell"]])
        assert int(s["n"]) == 2
        assert float(s["test_accuracy_mean"]) == pytest.approx(acc.mean(), abs=1e-12)
        assert float(s["test_accuracy_std"]) == pytest.approx(acc.std(ddof=1), abs=1e-12)
        half = stats.t.ppf(0.975, 1) * acc.std(ddof=1) / math.sqrt(2)
        assert float(s["test_accuracy_ci_high"]) == pytest.approx(acc.mean() + half, abs=1e-9)
        assert float(s["test_accuracy_ci_low"]) == pytest.approx(acc.mean() - half, abs=1e-9)

    # resume: drop one row and its folder; only that run is redone
    mtimes = {r["name"]: (folder / r["name"]).stat().st_mtime_ns for r in rows}
    lost = rows[5]["name"]
    shutil.rmtree(folder / lost)
    with open(folder / "results.csv", newline="", encoding="utf-8") as f:
        lines = f.readlines()
    del lines[6]  # header + rows[0..4]
    (folder / "results.csv").write_text("".join(lines), encoding="utf-8")
    assert main(["grid", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("seed") == 1 and lost.replace("_seed", " seed ") in printed
    again = _rows(folder / "results.csv")
    assert [r["name"] for r in again] == [r["name"] for r in rows]
    assert (folder / lost / "model.safetensors").is_file()
    for name, mtime in mtimes.items():
        if name != lost:
            assert (folder / name).stat().st_mtime_ns == mtime
    metric_cols = ["test_accuracy", "test_loss", "train_loss", "val_loss", "epochs"]
    assert [[r[k] for k in metric_cols] for r in again] == [
        [r[k] for k in metric_cols] for r in rows
    ]

    # two worker processes: the same numbers in the same order
    out2 = tmp_path / "out2"
    assert main(["grid", str(path), "--out", str(out2), "--workers", "2", "--quiet"]) == 0
    two = _rows(out2 / "tiny" / "results.csv")
    assert [[r[k] for k in ["name", *metric_cols]] for r in two] == [
        [r[k] for k in ["name", *metric_cols]] for r in rows
    ]


def test_failing_and_diverging_runs_are_recorded_and_others_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # lr 1e30 blows up (diverged: kept on a rerun, it would blow up again); 10^9 hidden units
    # fail the run's memory check (failed: an error, retried on a rerun)
    text = BASE.replace("epochs = 3", "epochs = 2") + (
        '\n[grid]\n"training" = [{lr = 0.01}, {lr = 1e30}, {lr = 0.01}]\n'
        '"training.optimizer" = ["sgd"]\nseeds = [0]\n'
    )
    path = _write(tmp_path, text)
    hidden = '\n"model.hidden" = [[4], [1000000000]]'
    path.write_text(text.replace("{lr = 0.01}]", "{lr = 0.01}]" + hidden), encoding="utf-8")
    out = tmp_path / "out"
    g = grid.load_grid(path)
    rows = grid.run_grid(g, out, workers=1, log=lambda _: None, report=False)
    assert [r["status"] for r in rows] == ["ok", "failed", "diverged", "failed", "ok", "failed"]
    for r in rows[1:4]:
        assert r["error"] and "\n" not in r["error"]
        assert not (out / "tiny" / r["name"]).exists()
    assert rows[2]["error"].startswith("run 'c002_seed0' diverged: the loss became")
    assert "memory" in rows[1]["error"]
    assert rows[0]["train_accuracy"] and rows[0]["val_accuracy"] and rows[0]["test_accuracy"]
    summary = _rows(out / "tiny" / "summary.csv")
    assert [(s["n"], s["diverged"], s["failed"]) for s in summary] == [
        ("1", "0", "0"), ("0", "0", "1"), ("0", "1", "0"), ("0", "0", "1"), ("1", "0", "0"),
        ("0", "0", "1"),
    ]  # fmt: skip
    assert summary[0]["train_accuracy_mean"] == rows[0]["train_accuracy"]
    # a rerun retries the failed runs only
    again = grid.run_grid(g, out, workers=1, log=print, quiet=True, report=False)
    assert capsys.readouterr().out.count(" seed ") == 3

    def filled(r: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in r.items() if v}

    assert [filled(again[i]) for i in (0, 2, 4)] == [filled(rows[i]) for i in (0, 2, 4)]
    # a changed configuration (more epochs) reruns every run
    path.write_text(path.read_text().replace("epochs = 2", "epochs = 3"), encoding="utf-8")
    again = grid.run_grid(grid.load_grid(path), out, workers=1, log=lambda _: None, report=False)
    assert again[0]["epochs"] == "3" and again[0]["config"] != rows[0]["config"]


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE.replace("epochs = 3", "epochs = 2") + '\n[grid]\n"training.lr" = [0.01, 1e30]\n'
    path = _write(tmp_path, text + '"training.optimizer" = ["sgd"]\n')
    args = ["--workers", "1", "--run-reports"]
    assert main(["grid", str(path), "--out", str(tmp_path / "a"), *args]) == 0
    assert (tmp_path / "a" / "tiny" / "c000_seed0" / "report.html").is_file()  # as train's
    assert "1 diverged" in capsys.readouterr().out  # an outcome of the experiment, not an error
    path = _write(tmp_path, text + '"model.hidden" = [[1000000000]]\n')
    assert main(["grid", str(path), "--out", str(tmp_path / "b"), "--workers", "1"]) == 1
    assert "failed" in capsys.readouterr().err


def test_interrupt_keeps_results_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GRID)
    out = tmp_path / "out"
    real = grid.run_one
    calls = []

    def interrupted(job: grid.Job) -> dict:
        calls.append(job)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(grid, "run_one", interrupted)
    assert main(["grid", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 130
    rows = _rows(out / "tiny" / "results.csv")
    assert [r["name"] for r in rows] == ["c000_seed0", "c000_seed1"]


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grid", str(tmp_path / "missing.toml"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["grid", "x.toml", "--workers", "0"])
    assert "--workers" in capsys.readouterr().err


def test_example_grid_loads() -> None:
    root = Path(__file__).resolve().parents[1]
    g = grid.load_grid(root / "examples" / "grids" / "optimizers.toml")
    assert len(g.runs()) >= 4
    assert os.path.basename(g.origin) == "optimizers.toml"


def test_sinapsi_train_on_a_grid_file_says_to_use_sinapsi_grid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "grids" / "optimizers.toml"
    assert main(["train", str(example), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "this is a grid file (it has a [grid] section): run it with `sinapsi grid " in err
    assert not list(tmp_path.iterdir())
