"""``mpirun -n 2 sinapsi train``: one run folder written by rank 0, the plan and progress printed
once, the model equal to the one-process run's; errors said once (the same on every rank) or
by the rank that met them, and every rank ends, none left waiting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sinapsi as sn
from mpi_checks import needs_mpi, run_mpi
from sinapsi.config import load_config
from sinapsi.experiment import run

CONFIG = """name = "tiny"
[data]
source = "moons"
n_samples = 300
[model]
hidden = [16, 16]
[training]
epochs = 4
batch_size = 25
seed = 3
"""
HERE = Path(__file__).parent


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(CONFIG)
    return path


@needs_mpi
def test_train_on_two_ranks_saves_one_run_as_one_process_would(
    config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    done = run_mpi(2, ["sinapsi", "train", str(config), "--out", str(out)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [p.name for p in out.iterdir()] == ["tiny"]  # one run folder, by rank 0 only
    assert done.stdout.count("on 2 processes (MPI)") == 1
    assert done.stdout.count("Epoch 1/4") == 1 and done.stdout.count("Epoch 4/4") == 1
    assert done.stdout.count("result    test accuracy") == 1
    assert "warning" not in done.stderr
    model = sn.load(out / "tiny" / "model.safetensors")
    ref = run(load_config(config), tmp_path / "one" / "tiny", verbose=0, report=False)
    ref_model = sn.load(ref.folder / "model.safetensors")
    x = np.random.default_rng(0).uniform(-1.5, 2.5, (200, 2)).astype(np.float32)
    assert np.allclose(sn.predict(model, x), sn.predict(ref_model, x), rtol=1e-5, atol=1e-5)
    # and training changed the model: equal untrained ones would prove nothing
    assert not np.allclose(sn.predict(ref_model, x)[:, 0], sn.predict(ref_model, x)[:, 1])


@needs_mpi
def test_an_error_of_every_rank_is_said_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nsource = "csv"\npath = "missing.csv"\ntarget = "y"\n')
    out = tmp_path / "runs"
    done = run_mpi(2, ["sinapsi", "train", "bad.toml", "--out", str(out)], cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("sinapsi: error: bad.toml: [data] source = 'csv': ")
    assert line.endswith("missing.csv' does not exist. Check the path.")
    assert done.stdout == "" and not any(out.iterdir())  # --out made, no run in it


@needs_mpi
@pytest.mark.parametrize(
    "when, message",
    [
        ("prepare", "sinapsi: error: rank 1: OSError: cannot read the data on this node"),
        ("step", "sinapsi: error: rank 1: ArithmeticError: boom on rank 1, call 4"),
    ],
)
def test_a_rank_failing_alone_ends_every_rank(
    config: Path, tmp_path: Path, when: str, message: str
) -> None:
    """Rank 1 fails before training (its data) or in a step: it says so, in one line naming
    it; rank 0 ends too (no hang: the time limit), nothing is saved."""
    out = tmp_path / "runs"
    script = str(HERE / "cli_ranks.py")
    done = run_mpi(2, ["python", script, when, str(config), str(out)], cwd=tmp_path, timeout=60)
    assert done.returncode != 0  # rank 1's status (1), or MPI_Abort's in a step
    if when == "prepare":  # rank 0 ended quietly with 0: mpirun gives rank 1's status
        assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("sinapsi: error")]
    assert errors == [message]
    assert not any(out.iterdir())


@needs_mpi
def test_an_error_no_other_rank_knows_aborts_every_rank(config: Path, tmp_path: Path) -> None:
    """A callback fails at the end of rank 1's first epoch while rank 0 goes on to the next
    step's Allreduce: rank 1 says so and aborts the job (MPI_Abort), so rank 0 does not wait
    forever (the time limit); no run is saved (killed, rank 0 leaves its empty hidden
    staging folder, as after kill -9)."""
    out = tmp_path / "runs"
    script = str(HERE / "cli_ranks.py")
    done = run_mpi(2, ["python", script, "epoch", str(config), str(out)], cwd=tmp_path, timeout=60)
    assert done.returncode != 0
    assert (
        "sinapsi: error: rank 1: RuntimeError: the epoch's hook failed on this rank" in done.stderr
    )
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []
